"""Two-factor sign-in: a TOTP authenticator (accounts/totp.py) and one-time recovery codes.

Who must use it: moderators and administrators (:func:`two_factor_required`) while
``SIGILLO_TOTP_REQUIRED`` is on; anyone may enrol. A password alone never signs such a person in:

- the login views (the site's, the admin's) keep the account *pending* in the session
  (:func:`pending_store`) and sign in only after a right code (accounts/two_factor_views.py);
- a session that passed the second step is marked (:func:`session_mark_verified`); the middleware
  (accounts/middleware.py) sends a moderator's or administrator's unmarked session to enrol or to
  type a code, whatever page it asks for, and the API ignores it (accounts/authentication.py);
- the API's token endpoint wants the code in the same request (``otp``).

Wrong codes count towards the lock-out (accounts/lockout.py) and are audited (``auth.otp_failure``),
as are enrolments (``auth.otp_enrolled``) and recovery codes used (``auth.recovery_code_used``).
"""

import hashlib
import secrets
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts import totp
from accounts.lockout import client_address, second_factor_failed, second_factor_passed
from accounts.models import RecoveryCode, TOTPDevice, User
from accounts.roles import Role

#: Session keys: the account waiting for its code, and the account whose session passed the step.
PENDING_SESSION_KEY = "sigillo_2fa_pending"
VERIFIED_SESSION_KEY = "sigillo_2fa_verified"
RECOVERY_CODE_COUNT = 10
#: Recovery codes are 16 base32 characters (80 bits: a fast hash is enough), shown in groups of 4.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
WRONG_CODE_MESSAGE = "That code is not right, or was already used. Type the code your app shows now."


def is_staff_account(user: Any) -> bool:
    """Return whether ``user`` acts as a moderator or administrator (flags or roles)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_staff or user.is_superuser or user.has_role(Role.MODERATOR) or user.has_role(Role.ADMIN))


def two_factor_required(user: Any) -> bool:
    """Return whether ``user`` may act only after a second step (their role, and the setting)."""
    return bool(settings.SIGILLO_TOTP_REQUIRED) and is_staff_account(user)


def confirmed_device(user: Any) -> TOTPDevice | None:
    if not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def second_factor_needed(user: Any) -> bool:
    """Return whether signing ``user`` in takes a code: they enrolled, or their role requires it."""
    return two_factor_required(user) or confirmed_device(user) is not None


def device_secret(device: TOTPDevice) -> str:
    from consent.crypto import decrypt_bytes  # numpy comes with it: not at import

    return decrypt_bytes(device.secret_encrypted).decode()


def _hash(code: str) -> str:
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()


def totp_enrolment_start(*, user: User) -> tuple[TOTPDevice, str]:
    """Return the user's device waiting for confirmation (made on first call) and its secret.

    The same secret is shown until it is confirmed, so reloading the page does not invalidate what
    the app already scanned. A user who already has a confirmed device gets a ValidationError.
    """
    from consent.crypto import encrypt_bytes

    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None and device.confirmed:
        raise ValidationError("Two-factor sign-in is already set up for this account.", code="already_enrolled")
    if device is None:
        secret = totp.random_secret()
        device = TOTPDevice.objects.create(user=user, secret_encrypted=encrypt_bytes(secret.encode()))
        return device, secret
    return device, device_secret(device)


def provisioning_uri(*, user: User, secret: str) -> str:
    return totp.provisioning_uri(secret, account=user.get_username(), issuer=settings.SIGILLO_TOTP_ISSUER)


def totp_device_set(*, user: User, secret: str) -> TOTPDevice:
    """Give ``user`` a confirmed authenticator with a secret chosen in advance, without recovery
    codes: the demo's moderators and administrators (seed_demo), whose key is published."""
    from consent.crypto import encrypt_bytes

    device, _ = TOTPDevice.objects.update_or_create(
        user=user,
        defaults={"secret_encrypted": encrypt_bytes(secret.encode()), "confirmed_at": timezone.now()},
    )
    return device


def _new_recovery_codes() -> list[str]:
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        if code not in codes:
            codes.append(code)
    return codes


def totp_enrolment_confirm(*, user: User, code: str, request: HttpRequest | None = None) -> list[str]:
    """Confirm the user's new device with a code from their app; return the recovery codes (the
    only time they are ever readable). A wrong code is a ValidationError (and not counted: the
    person is already signed in with their password, typing the first code of a new app)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user).first()
        if device is None or device.confirmed:
            raise ValidationError("Start the setup again: there is no authenticator waiting.", code="no_device")
        step = totp.matching_step(device_secret(device), code, after=device.last_used_step)
        if step is None:
            raise ValidationError(WRONG_CODE_MESSAGE, code="wrong_code")
        device.confirmed_at = timezone.now()
        device.last_used_step = step
        device.save(update_fields=["confirmed_at", "last_used_step"])
        codes = _new_recovery_codes()
        RecoveryCode.objects.bulk_create(RecoveryCode(device=device, code_hash=_hash(code)) for code in codes)
        from moderation.audit import audit_record

        audit_record(
            actor=user,
            action="auth.otp_enrolled",
            target=user,
            data={"address": client_address(request), "recovery_codes": len(codes)},
        )
    return codes


def _use_recovery_code(device: TOTPDevice, code: str) -> int | None:
    """Spend a recovery code; return how many are left, or None when it is not one (or used)."""
    if len(code) > 64:
        return None
    row = device.recovery_codes.filter(code_hash=_hash(code), used_at__isnull=True).first()
    # The update is the check that counts: of two requests racing with one code, one wins.
    if row is None or not RecoveryCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now()):
        return None
    return device.recovery_codes.filter(used_at__isnull=True).count()


def second_factor_verify(*, user: User, code: str, request: HttpRequest | None) -> str | None:
    """Check ``code`` (from the app, or a recovery code) for ``user``; return "totp" or "recovery"
    when it signs them in, None when not — a wrong, reused or missing code counts towards the
    lock-out and is audited. The caller checks the lock-out first."""
    from moderation.audit import audit_record

    code = (code or "").strip()
    device = confirmed_device(user)
    method = None
    if device is not None and code:
        step = totp.matching_step(device_secret(device), code, after=device.last_used_step)
        # Conditional update: two requests with one code cannot both pass (nor an older step after a newer).
        if step is not None and TOTPDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
            last_used_step=step
        ):
            method = "totp"
        elif step is None and not code.isdigit():
            left = _use_recovery_code(device, code)
            if left is not None:
                method = "recovery"
                with transaction.atomic():
                    audit_record(
                        actor=user,
                        action="auth.recovery_code_used",
                        target=user,
                        data={"address": client_address(request), "left": left},
                    )
    if method is not None:
        second_factor_passed(user.get_username())
        return method
    with transaction.atomic():
        audit_record(
            actor=None,
            action="auth.otp_failure",
            target=user,
            data={"username": user.get_username(), "address": client_address(request)},
        )
    second_factor_failed(user.get_username(), request)
    return None


# The session: who is waiting for their code, and whether this session passed the step.


def pending_store(request: HttpRequest, *, user: User, next_url: str) -> None:
    """Remember, in the (still anonymous) session, that ``user`` gave the right password."""
    request.session[PENDING_SESSION_KEY] = {
        "user": user.pk,
        "hash": user.get_session_auth_hash(),
        "backend": getattr(user, "backend", "accounts.lockout.LockoutBackend"),
        "expires": time.time() + settings.SIGILLO_TOTP_PENDING_SECONDS,
        "next": next_url,
    }


def pending_user(request: HttpRequest) -> tuple[User, dict] | None:
    """Return the account waiting for its code and what was stored with it, or None (none, expired,
    or the account changed its password or was deactivated since)."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or pending.get("expires", 0) < time.time():
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None or not secrets.compare_digest(user.get_session_auth_hash(), str(pending.get("hash", ""))):
        return None
    user.backend = pending.get("backend")
    return user, pending


def pending_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)


def session_mark_verified(session: Any, user: Any) -> None:
    """Mark ``session`` as having passed the second step for ``user`` (after login(), which may
    replace the session's key; the mark stays with it)."""
    session[VERIFIED_SESSION_KEY] = user.pk


def session_verified(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    return session is not None and session.get(VERIFIED_SESSION_KEY) == getattr(request.user, "pk", None)


def session_needs_second_factor(request: HttpRequest) -> bool:
    """Return whether the signed-in user must pass the second step before anything else."""
    user = getattr(request, "user", None)
    return user is not None and two_factor_required(user) and not session_verified(request)
