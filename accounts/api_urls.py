from django.urls import path

from accounts import apis

urlpatterns = [
    path("auth/token/", apis.TokenApi.as_view(), name="api-token"),
    path("accounts/register/", apis.RegisterApi.as_view(), name="api-register"),
    path("accounts/me/", apis.MeApi.as_view(), name="api-me"),
    path("accounts/users/", apis.UserListApi.as_view(), name="api-users"),
    path("accounts/users/<int:user_id>/roles/", apis.UserRoleApi.as_view(), name="api-user-roles"),
]
