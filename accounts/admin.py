from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

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
