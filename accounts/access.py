"""Who may reach which page or endpoint: the one place role checks live.

Views use :func:`role_required` (web) or :class:`HasRole` (API); both refuse
anyone without one of the listed roles.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from accounts.roles import Role


def user_has_any_role(user: Any, roles: tuple[Role, ...]) -> bool:
    return bool(user.is_authenticated) and any(user.has_role(role) for role in roles)


def role_required(*roles: Role) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Let a web view through only for a signed-in user holding one of ``roles`` (else 403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_any_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


def HasRole(*roles: Role) -> type[BasePermission]:  # noqa: N802 - reads like a class in permission_classes
    """Build a DRF permission that admits users holding one of ``roles``."""

    class _HasRole(BasePermission):
        message = "This needs one of the roles: %s." % ", ".join(str(role) for role in roles)

        def has_permission(self, request: Any, view: Any) -> bool:
            return user_has_any_role(request.user, roles)

    _HasRole.__name__ = "HasRole_" + "_".join(str(role) for role in roles)
    return _HasRole
