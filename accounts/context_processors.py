"""Navigation that follows the signed-in user's roles."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from accounts.roles import Role

# (label, url name, roles that see it); an empty role tuple means every signed-in user.
NAVIGATION: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("Studio", "generation:studio", (Role.CREATOR,)),
    ("My likenesses", "consent:likenesses", (Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE)),
    ("Moderation", "moderation:queue", (Role.MODERATOR,)),
    ("Users & roles", "accounts:users", (Role.ADMIN,)),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    items = [
        {"label": label, "url": reverse(name), "key": name.split(":")[1]}
        for label, name, roles in NAVIGATION
        if not roles or any(user.has_role(role) for role in roles)
    ]
    return {"nav_items": items, "user_roles": [Role(role).label for role in sorted(user.role_set)]}
