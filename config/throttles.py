"""Rate limits of costly work: per user (DRF's ``ScopedRateThrottle``, one scope per kind of work)
and per client address (``AddressRateThrottle``: every check, scan, generation and verify from one
address, whoever signed in), both counted in the shared cache.

``COSTLY_THROTTLES`` is what an API view doing costly work lists; ``page_throttled(request, scope)``
counts a web page's POST against the same two limits and says how long to wait when one is reached.
The client address is ``REMOTE_ADDR``, or ``X-Forwarded-For`` as far as ``SIGILLO_TRUSTED_PROXIES``
allows (DRF's ``NUM_PROXIES``).
"""

from types import SimpleNamespace

from django.http import HttpRequest
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle


class AddressRateThrottle(SimpleRateThrottle):
    """All costly calls from one client address, signed in or not (``SIGILLO_ADDRESS_THROTTLE``):
    many accounts made by one client share one limit."""

    scope = "address"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


COSTLY_THROTTLES = [ScopedRateThrottle, AddressRateThrottle]


def page_throttled(request: HttpRequest, scope: str) -> int | None:
    """Seconds to wait if this POST is over ``scope``'s rate or its address's, else None (counted)."""
    view = SimpleNamespace(throttle_scope=scope)
    for throttle in (ScopedRateThrottle(), AddressRateThrottle()):
        if not throttle.allow_request(request, view):
            return max(1, round(throttle.wait() or 1))
    return None
