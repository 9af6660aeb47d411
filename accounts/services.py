"""Write operations on accounts: every interface (API, web, admin, commands) calls these."""

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User, UserRole
from accounts.roles import ADMIN_GRANTED_ROLES, DEFAULT_ROLE, SELF_SERVICE_ROLES, Role
from moderation.audit import audit_record

USERNAME_TAKEN = "A user with that username already exists."


@transaction.atomic
def user_register(
    *,
    username: str,
    password: str,
    email: str = "",
    display_name: str = "",
    roles: Iterable[Role | str] = (DEFAULT_ROLE,),
    granted_by: User | None = None,
    operator: bool = False,
) -> User:
    """Create a user with validated password and roles, all or nothing.

    Self-registration may only ask for SELF_SERVICE_ROLES; moderator and admin
    need ``granted_by`` to be an administrator, or ``operator`` (a management
    command run by whoever operates the installation).
    """
    wanted = {Role(role) for role in roles} or {DEFAULT_ROLE}
    privileged = wanted & ADMIN_GRANTED_ROLES
    if privileged and not (operator or (granted_by is not None and granted_by.has_role(Role.ADMIN))):
        raise ValidationError(
            {"roles": ["Only an administrator can grant: %s." % ", ".join(sorted(privileged))]}, code="forbidden_role"
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [USERNAME_TAKEN]}, code="unique")
    user = User(username=username, email=email, display_name=display_name)
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}, code="password") from error
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:  # a concurrent registration won the race
        raise ValidationError({"username": [USERNAME_TAKEN]}, code="unique") from error
    UserRole.objects.bulk_create(UserRole(user=user, role=role, granted_by=granted_by) for role in sorted(wanted))
    for role in sorted(wanted):
        # Who granted it: the administrator, the person themselves, or (no one) the operator's command.
        audit_record(
            actor=granted_by or (None if operator else user),
            action="role.grant",
            target=user,
            data={"role": role, "registration": True, "operator": operator},
        )
    if Role.ADMIN in wanted:
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    user.forget_roles()
    return user


def _require_admin(actor: User) -> None:
    if not actor.has_role(Role.ADMIN):
        raise PermissionError("Only an administrator can change roles.")


@transaction.atomic
def user_role_grant(*, actor: User, user: User, role: Role | str) -> UserRole:
    """Grant ``role`` to ``user``; idempotent. Only administrators grant roles to others."""
    role = Role(role)
    if not (actor.has_role(Role.ADMIN) or (actor.pk == user.pk and role in SELF_SERVICE_ROLES)):
        raise PermissionError("Only an administrator can grant that role.")
    granted, created = UserRole.objects.get_or_create(user=user, role=role, defaults={"granted_by": actor})
    if created:
        audit_record(actor=actor, action="role.grant", target=user, data={"role": role})
    if role == Role.ADMIN and not (user.is_staff and user.is_superuser):
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    user.forget_roles()
    return granted


@transaction.atomic
def user_role_revoke(*, actor: User, user: User, role: Role | str) -> None:
    """Take ``role`` away from ``user``; the last administrator cannot lose the role."""
    role = Role(role)
    _require_admin(actor)
    if role == Role.ADMIN:
        admins = UserRole.objects.select_for_update().filter(role=Role.ADMIN)
        if list(admins.values_list("user_id", flat=True)) == [user.pk]:
            raise ValidationError("The last administrator cannot lose the role.", code="last_admin")
        user.is_staff = user.is_superuser = False
        user.save(update_fields=["is_staff", "is_superuser"])
    removed, _ = UserRole.objects.filter(user=user, role=role).delete()
    if removed:
        audit_record(actor=actor, action="role.revoke", target=user, data={"role": role})
    user.forget_roles()
