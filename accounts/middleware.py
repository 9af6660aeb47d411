"""Moderators and administrators reach nothing before their session passed the second step.

Not only the pages under /moderation/ and /admin/: every page a view serves, whichever app it
belongs to and whatever it is called, so that a staff page added tomorrow is covered too. A signed-in
moderator or administrator whose session has not passed the step (accounts/two_factor.py) is sent to
enrol (no authenticator yet) or to type a code (enrolled); only signing in and out, the two-factor
pages themselves, static files and the API (which ignores such a session: accounts/authentication.py)
are let through.
"""

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts import two_factor

#: Paths an unverified moderator's session may still ask for.
_OPEN_PREFIXES = ("/static/", "/api/", "/admin/login/", "/admin/logout/")


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if two_factor.session_needs_second_factor(request) and not self._open(request.path):
            enrolled = two_factor.confirmed_device(request.user) is not None
            target = reverse("accounts:two-factor" if enrolled else "accounts:two-factor-setup")
            return HttpResponseRedirect("%s?%s" % (target, urlencode({"next": request.get_full_path()})))
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        open_paths = (
            reverse("accounts:login"),
            reverse("accounts:logout"),
            reverse("accounts:two-factor"),
            reverse("accounts:two-factor-setup"),
        )
        return path in open_paths or path.startswith(_OPEN_PREFIXES)
