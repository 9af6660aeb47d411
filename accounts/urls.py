from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import two_factor_views, views
from accounts.forms import SignInForm

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        two_factor_views.TwoStepLoginView.as_view(template_name="accounts/login.html", authentication_form=SignInForm),
        name="login",
    ),
    path("two-factor/", two_factor_views.two_factor_verify, name="two-factor"),
    path("two-factor/setup/", two_factor_views.two_factor_setup, name="two-factor-setup"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/roles/", views.user_role_change, name="user-role-change"),
]
