"""Sign-in that cannot be brute-forced: every entry point (the web login, the admin, the API's
token endpoint) authenticates through ``LockoutBackend``, which counts failures per account and
per client address in the shared cache and refuses both after too many.

An account locks for ``SIGILLO_LOGIN_LOCKOUT_SECONDS`` after ``SIGILLO_LOGIN_MAX_FAILURES``
failed passwords (whoever tried them, from wherever); an address after
``SIGILLO_LOGIN_MAX_FAILURES_PER_ADDRESS`` failures (whichever accounts it tried). While locked,
even the right password is refused. Wrong two-factor codes lock the same way, on their own count
(:func:`second_factor_failed`). Each lock writes an audit row. The client address is the
connection's, or, behind ``SIGILLO_TRUSTED_PROXIES`` reverse proxies, the one they saw: a
client-chosen ``X-Forwarded-For`` is never believed beyond them.
"""

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

LOCKED_MESSAGE = "Too many failed sign-ins: this account or address is locked for a while. Try again later."


def client_address(request: HttpRequest | None) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted proxies in front of us saw."""
    if request is None:
        return ""
    proxies = settings.SIGILLO_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "")


def _key(kind: str, value: str) -> str:
    return "sigillo:login:%s:%s" % (kind, hashlib.sha256(value.strip().lower().encode()).hexdigest())


def login_locked(username: str | None, request: HttpRequest | None) -> bool:
    """Whether sign-in is refused for this account or from this address right now."""
    if username and cache.get(_key("locked-user", username)):
        return True
    address = client_address(request)
    return bool(address and cache.get(_key("locked-address", address)))


def _count_failure(kind: str, value: str, limit: int, *, locks: str | None = None) -> bool:
    """Count one failure; return True when this one reaches the limit (and locks ``locks``, by
    default ``kind``)."""
    window = settings.SIGILLO_LOGIN_LOCKOUT_SECONDS
    key = _key(kind, value)
    cache.add(key, 0, timeout=window)
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        failures = 1
    if failures >= limit:
        cache.set(_key("locked-" + (locks or kind), value), True, timeout=window)
        return True
    return False


def _record_lock(kind: str, value: str, request: HttpRequest | None, *, via: str = "password") -> None:
    from accounts.models import User
    from moderation.audit import audit_record

    target = User.objects.filter(username__iexact=value).first() if kind == "user" else None
    with transaction.atomic():
        audit_record(
            actor=None,
            action="auth.lockout",
            target=target,
            data={
                "locked": kind,
                "username": value if kind == "user" else None,
                "address": client_address(request),
                "seconds": settings.SIGILLO_LOGIN_LOCKOUT_SECONDS,
                "via": via,
            },
        )


def second_factor_failed(username: str, request: HttpRequest | None) -> None:
    """Count a wrong two-factor code (accounts/two_factor.py) against the account and the address.

    Wrong codes lock the account as wrong passwords do, but on a count of their own that a right
    password does not reset (else whoever knows the password could guess codes for ever): only a
    right code does (:func:`second_factor_passed`).
    """
    if _count_failure("otp-user", username, settings.SIGILLO_LOGIN_MAX_FAILURES, locks="user"):
        _record_lock("user", username, request, via="otp")
    address = client_address(request)
    if address and _count_failure("address", address, settings.SIGILLO_LOGIN_MAX_FAILURES_PER_ADDRESS):
        _record_lock("address", address, request, via="otp")


def second_factor_passed(username: str) -> None:
    cache.delete(_key("otp-user", username))


class LockoutBackend(ModelBackend):
    """Django's password check, refused while the account or the address is locked."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if login_locked(username, request):
            raise PermissionDenied(LOCKED_MESSAGE)  # no other backend is asked either
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            cache.delete(_key("user", username or ""))
            return user
        if username:
            if _count_failure("user", username, settings.SIGILLO_LOGIN_MAX_FAILURES):
                _record_lock("user", username, request)
        address = client_address(request)
        if address and _count_failure("address", address, settings.SIGILLO_LOGIN_MAX_FAILURES_PER_ADDRESS):
            _record_lock("address", address, request)
        return None
