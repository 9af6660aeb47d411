"""API shapes of accounts. Validation of shape only; rules live in services."""

from rest_framework import serializers

from accounts.models import User
from accounts.roles import SELF_SERVICE_ROLES, Role

_SELF_SERVICE_CHOICES = [(role.value, role.label) for role in Role if role in SELF_SERVICE_ROLES]


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Use letters, digits and @/./+/-/_ only."},
    )
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=_SELF_SERVICE_CHOICES),
        required=False,
        max_length=len(_SELF_SERVICE_CHOICES),
        default=[Role.CREATOR.value],
    )


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "Two-factor code: required for moderators and administrators (and anyone who enrolled an "
            "authenticator at /accounts/two-factor/setup/). The 6-digit code the authenticator app shows "
            "now, or one of the account's one-time recovery codes. Missing: 400 with code `otp_required` "
            "on this field; wrong or already used: 400 with `otp_invalid` (and it counts towards the "
            "lock-out). A moderator who has not enrolled yet gets 403 `permission_denied`."
        ),
    )


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


class UserOutputSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "username", "email", "display_name", "roles", "date_joined", "verified_at")

    def get_roles(self, user: User) -> list[str]:
        return sorted(user.role_set)


class RoleChangeInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
