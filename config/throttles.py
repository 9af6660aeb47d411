"""Rate limits of the web pages that do costly work (the API's views use DRF's throttles directly).

``page_throttled(request, scope)`` counts a POST against the same rate and in the same shared cache
as the API's ``ScopedRateThrottle`` of that scope (per user when signed in, per client address
otherwise) and says how long to wait when the limit is reached.
"""

from types import SimpleNamespace

from django.http import HttpRequest
from rest_framework.throttling import ScopedRateThrottle


def page_throttled(request: HttpRequest, scope: str) -> int | None:
    """Seconds to wait if this POST is over ``scope``'s rate, else None (and it is counted)."""
    throttle = ScopedRateThrottle()
    if throttle.allow_request(request, SimpleNamespace(throttle_scope=scope)):
        return None
    return max(1, round(throttle.wait() or 1))
