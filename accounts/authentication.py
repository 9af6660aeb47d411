"""The API's session authentication, which trusts a moderator's or administrator's session only once
it passed the second step (accounts/two_factor.py); tokens are issued to them only with a code."""

from typing import Any

from drf_spectacular.authentication import SessionScheme
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from accounts import two_factor

SECOND_STEP_MESSAGE = (
    "This account signs in with two-factor: finish signing in (a code from your authenticator) "
    "at /accounts/two-factor/, or ask for a token with the code (POST /api/v1/auth/token/, otp)."
)


class TwoFactorSessionAuthentication(SessionAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is not None and two_factor.two_factor_required(result[0]):
            if not two_factor.session_verified(request._request):
                raise exceptions.AuthenticationFailed(SECOND_STEP_MESSAGE)
        return result


class TwoFactorSessionScheme(SessionScheme):
    """The OpenAPI description of the session cookie (drf-spectacular finds it by ``target_class``)."""

    target_class = TwoFactorSessionAuthentication
