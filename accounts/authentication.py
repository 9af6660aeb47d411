"""The API's authentication, aware of two-factor sign-in (accounts/two_factor.py).

A moderator's or administrator's session counts only once it passed the second step. Tokens are
issued to whoever signs in with two-factor only with a code, and a token counts only if it was
issued after the account's authenticator was confirmed: one issued on a password alone, before
two-factor was turned on or enrolled (or before an administrator reset the authenticator), is
refused until a new one is asked for with a code."""

from typing import Any

from drf_spectacular.authentication import SessionScheme, TokenScheme
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request

from accounts import two_factor

SECOND_STEP_MESSAGE = (
    "This account signs in with two-factor: finish signing in (a code from your authenticator) "
    "at /accounts/two-factor/, or ask for a token with the code (POST /api/v1/auth/token/, otp)."
)


ISSUED_BEFORE_SECOND_STEP_MESSAGE = (
    "This token was issued without two-factor sign-in, which this account now uses: ask for a new "
    "one with a code from your authenticator (POST /api/v1/auth/token/, otp)."
)


def token_predates_second_factor(user: Any, token: Any) -> bool:
    """Whether ``token`` was issued before ``user``'s second step could have been asked for: the
    account needs one (``two_factor.second_factor_needed``, its device read once) and the token is
    older than its confirmed device, or there is none yet."""
    device = two_factor.confirmed_device(user)
    if device is None:
        return two_factor.two_factor_required(user)
    return token.created < device.confirmed_at


class TwoFactorTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if token_predates_second_factor(user, token):
            raise exceptions.AuthenticationFailed(ISSUED_BEFORE_SECOND_STEP_MESSAGE)
        return user, token


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


class TwoFactorTokenScheme(TokenScheme):
    """The OpenAPI description of the ``Authorization: Token`` header."""

    target_class = TwoFactorTokenAuthentication
