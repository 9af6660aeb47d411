"""Web forms of accounts; they validate shape and hand the rest to services."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts import services
from accounts.lockout import LOCKED_MESSAGE, login_locked
from accounts.models import User
from accounts.roles import SELF_SERVICE_ROLES, Role


class RegisterForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        help_text="Letters, digits and @/./+/-/_ only.",
        error_messages={"invalid": "Use letters, digits and @/./+/-/_ only."},
    )
    display_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254, required=False)
    password1 = forms.CharField(label="Password", max_length=128, strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", max_length=128, strip=False, widget=forms.PasswordInput)
    roles = forms.MultipleChoiceField(
        choices=[(role.value, role.label) for role in Role if role in SELF_SERVICE_ROLES],
        initial=[Role.CREATOR.value],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Creators generate; rights holders register their own likeness; estate representatives act for someone who has died.",
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "The two passwords differ.")
        return data

    def save(self) -> User:
        """Register the user through the service; service errors land on the form's fields."""
        data = self.cleaned_data
        try:
            return services.user_register(
                username=data["username"],
                password=data["password1"],
                email=data.get("email", ""),
                display_name=data.get("display_name", ""),
                roles=data.get("roles") or [Role.CREATOR],
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(
                    "password1" if field == "password" else (field if field in self.fields else None), messages
                )
            raise


class SignInForm(AuthenticationForm):
    """The web sign-in: says so when the account or address is locked (accounts/lockout.py)."""

    def clean(self) -> dict:
        if login_locked(self.data.get("username"), self.request):
            raise forms.ValidationError(LOCKED_MESSAGE, code="locked")
        return super().clean()


class AdminSignInForm(AdminAuthenticationForm):
    """The admin's sign-in, with the same lock-out message."""

    def clean(self) -> dict:
        if login_locked(self.data.get("username"), self.request):
            raise forms.ValidationError(LOCKED_MESSAGE, code="locked")
        return super().clean()


class SecondFactorForm(forms.Form):
    """The code that completes a sign-in: from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=64,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


class TOTPConfirmForm(forms.Form):
    """The first code of a newly added authenticator, which proves it holds the secret."""

    code = forms.RegexField(
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        label="Code from your app",
        max_length=16,
        error_messages={"invalid": "Type the 6 digits your app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
