"""The accounts API: registration, tokens, the current user, and role administration."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import selectors, services, two_factor
from accounts.access import HasRole
from accounts.authentication import token_predates_second_factor
from accounts.lockout import LOCKED_MESSAGE, login_locked
from accounts.models import User
from accounts.roles import Role
from accounts.serializers import (
    RegisterInputSerializer,
    RoleChangeInputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
    UserOutputSerializer,
)


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=RegisterInputSerializer, responses={201: UserOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=TokenInputSerializer,
        responses={200: TokenOutputSerializer},
        description=(
            "Exchange a username and password for a token. Moderators and administrators (and anyone "
            "who enrolled an authenticator) must also send `otp`, the code of their authenticator app or "
            "a recovery code: without it the answer is 400 (`otp_required` on `otp`), with a wrong or "
            "reused one 400 (`otp_invalid`, counted towards the lock-out); one who has not enrolled yet "
            "gets 403 and enrols on the web first. A locked account or address gets 429."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials = dict(serializer.validated_data)
        otp = credentials.pop("otp")
        if login_locked(credentials["username"], request._request):
            raise exceptions.Throttled(wait=settings.SIGILLO_LOGIN_LOCKOUT_SECONDS, detail=LOCKED_MESSAGE)
        user = authenticate(request._request, **credentials)
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Unable to sign in with the username and password given."]},
                code="invalid_credentials",
            )
        if two_factor.second_factor_needed(user):
            self._second_factor(user, otp, request)
        token = Token.objects.filter(user=user).first()
        if token is not None and token_predates_second_factor(user, token):
            token.delete()  # issued on a password alone: this one, asked for with a code, replaces it
            token = None
        if token is None:
            token = Token.objects.create(user=user)
        return Response({"token": token.key})

    @staticmethod
    def _second_factor(user: User, otp: str, request: Request) -> None:
        """Let the request through only with a right code (accounts/two_factor.py)."""
        if two_factor.confirmed_device(user) is None:
            raise exceptions.PermissionDenied(
                "Moderators and administrators need two-factor sign-in: set up an authenticator at "
                "/accounts/two-factor/setup/ (sign in on the web), then send its code as `otp`."
            )
        if not otp.strip():
            raise exceptions.ValidationError(
                {"otp": [exceptions.ErrorDetail("This account signs in with two-factor: send `otp`.", "otp_required")]}
            )
        if two_factor.second_factor_verify(user=user, code=otp, request=request._request) is None:
            raise exceptions.ValidationError(
                {"otp": [exceptions.ErrorDetail(two_factor.WRONG_CODE_MESSAGE, "otp_invalid")]}
            )


class MeApi(APIView):
    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)


class UserListApi(APIView):
    permission_classes = [HasRole(Role.ADMIN)]

    @extend_schema(responses={200: UserOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(selectors.user_list(), many=True).data)


class UserRoleApi(APIView):
    """POST grants a role, DELETE revokes it (administrators only)."""

    permission_classes = [HasRole(Role.ADMIN)]

    @extend_schema(request=RoleChangeInputSerializer, responses={200: UserOutputSerializer})
    def post(self, request: Request, user_id: int) -> Response:
        user = get_object_or_404(User, pk=user_id)
        serializer = RoleChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_role_grant(actor=request.user, user=user, role=serializer.validated_data["role"])
        return Response(UserOutputSerializer(user).data)

    @extend_schema(request=RoleChangeInputSerializer, responses={200: UserOutputSerializer})
    def delete(self, request: Request, user_id: int) -> Response:
        user = get_object_or_404(User, pk=user_id)
        serializer = RoleChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_role_revoke(actor=request.user, user=user, role=serializer.validated_data["role"])
        return Response(UserOutputSerializer(user).data)
