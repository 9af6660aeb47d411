"""Users and the roles they hold."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from accounts.roles import Role


class User(AbstractUser):
    """A person using Sigillo. What they may do follows from their roles, not from flags."""

    display_name = models.CharField(max_length=150, blank=True)
    #: When a moderator verified who this person is ("any verified user" in consent policies).
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("username",)

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role_set(self) -> frozenset[str]:
        """Return the user's roles, cached on the instance for the life of a request."""
        cached = getattr(self, "_role_cache", None)
        if cached is None:
            cached = frozenset(self.roles.values_list("role", flat=True)) if self.pk else frozenset()
            self._role_cache = cached
        return cached

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def has_role(self, role: Role | str) -> bool:
        return self.is_active and str(role) in self.role_set

    def forget_roles(self) -> None:
        self.__dict__.pop("_role_cache", None)


class UserRole(models.Model):
    """One role held by one user, with who granted it and when."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("user", "role"), name="accounts_userrole_unique")]
        ordering = ("user_id", "role")

    def __str__(self) -> str:
        return f"{self.user_id}:{self.role}"


class TOTPDevice(models.Model):
    """A user's authenticator (accounts/two_factor.py): the TOTP secret, encrypted at rest with the
    biometric keys (consent/crypto.py), and the last time step a code was accepted for."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device")
    #: The base32 secret, Fernet-encrypted (SIGILLO_BIOMETRIC_KEYS).
    secret_encrypted = models.BinaryField()
    #: Set once the user typed a code from their app: until then the device signs nobody in.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    #: The step of the last code accepted: a code of this step or an earlier one is refused.
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "two-factor device"

    def __str__(self) -> str:
        return "%s (%s)" % (self.user_id, "confirmed" if self.confirmed_at else "not confirmed")

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """A one-time code that stands in for the authenticator; only its SHA-256 is stored."""

    device = models.ForeignKey(TOTPDevice, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("device", "code_hash"), name="accounts_recoverycode_unique")]

    def __str__(self) -> str:
        return "%s:%s" % (self.device_id, "used" if self.used_at else "unused")
