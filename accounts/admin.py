"""The Django admin for users: roles change through the account services, checked and audited."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache

from accounts import services
from accounts.forms import AdminSignInForm
from accounts.models import TOTPDevice, User, UserRole


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


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """Two-factor devices: seen, and deleted to let someone who lost theirs enrol again (audited)."""

    list_display = ("user", "confirmed_at", "created_at")
    fields = ("user", "confirmed_at", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TOTPDevice) -> None:
        self.delete_queryset(request, TOTPDevice.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        from moderation.audit import audit_record

        with transaction.atomic():
            for device in queryset.select_related("user"):
                audit_record(actor=request.user, action="auth.otp_reset", target=device.user, data={})
            queryset.delete()


# The admin's sign-in goes through the same lock-out as the web's and the API's (accounts/lockout.py)
# and the same second step (accounts/two_factor.py): the admin's own page, with the site's login view.
admin.site.login_form = AdminSignInForm


@never_cache
def _admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """AdminSite.login, with the two-step login view in place of Django's."""
    from accounts.two_factor_views import TwoStepLoginView

    site = admin.site
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(reverse("admin:index", current_app=site.name))
    context = {
        **site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
    }
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=site.name)
    context.update(extra_context or {})
    request.current_app = site.name
    view = TwoStepLoginView.as_view(
        extra_context=context, authentication_form=AdminSignInForm, template_name="admin/login.html"
    )
    return view(request)


admin.site.login = _admin_login
