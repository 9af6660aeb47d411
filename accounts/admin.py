"""The Django admin for users: roles change through the account services, checked and audited."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from accounts import services
from accounts.forms import AdminSignInForm
from accounts.models import User, UserRole


class UserRoleInline(admin.TabularInline):
    model = UserRole
    fk_name = "user"
    extra = 0
    readonly_fields = ("granted_by", "granted_at")


@admin.register(User)
class SigilloUserAdmin(UserAdmin):
    inlines = (UserRoleInline,)
    list_display = ("username", "display_name", "email", "is_active", "date_joined")
    fieldsets = UserAdmin.fieldsets + (("Sigillo", {"fields": ("display_name",)}),)

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool) -> None:
        """Grant and revoke roles through the account services, as the API does: checked and audited."""
        if formset.model is not UserRole:
            super().save_formset(request, form, formset, change)
            return
        user = form.instance
        formset.save(commit=False)  # fills new_objects, changed_objects and deleted_objects; writes nothing
        revoked = [row.role for row in formset.deleted_objects]
        revoked += [
            inline.initial["role"]
            for inline in formset.initial_forms
            if inline.has_changed() and "role" in inline.changed_data
        ]
        granted = [row.role for row in formset.new_objects]
        granted += [row.role for row, fields in formset.changed_objects if "role" in fields]
        for role in revoked:
            self._role_change(request, services.user_role_revoke, user=user, role=role)
        for role in granted:
            self._role_change(request, services.user_role_grant, user=user, role=role)

    def _role_change(self, request: HttpRequest, change_role: Any, *, user: User, role: str) -> None:
        try:
            change_role(actor=request.user, user=user, role=role)
        except (PermissionError, ValidationError) as error:
            self.message_user(
                request, "%s: %s" % (role, "; ".join(getattr(error, "messages", [str(error)]))), messages.ERROR
            )


# The admin's sign-in goes through the same lock-out as the web's and the API's (accounts/lockout.py).
admin.site.login_form = AdminSignInForm
