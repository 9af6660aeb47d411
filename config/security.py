"""Response headers every page carries: a Content-Security-Policy without inline scripts, and a
Permissions-Policy that grants the camera to Sigillo's own pages (the live selfie check) and
nothing else. The policies are settings (``SIGILLO_CONTENT_SECURITY_POLICY``,
``SIGILLO_PERMISSIONS_POLICY``); ``tests/ops/test_every_page.py`` checks them on every page."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.SIGILLO_CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.SIGILLO_PERMISSIONS_POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
