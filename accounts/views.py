"""Web pages of accounts: sign in and out, register, and administer roles."""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.access import role_required
from accounts.forms import RegisterForm
from accounts.models import User
from accounts.roles import Role


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = form.save()
        except ValidationError:
            pass
        else:
            login(request, user, backend="accounts.lockout.LockoutBackend")
            messages.success(request, "Welcome to Sigillo, %s." % user)
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/register.html", {"form": form}, status=status)


@role_required(Role.ADMIN)
def users(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/users.html", {"users": selectors.user_list(), "roles": Role.choices})


@require_POST
@role_required(Role.ADMIN)
def user_role_change(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    role, action = request.POST.get("role", ""), request.POST.get("action", "")
    if role not in Role.values or action not in ("grant", "revoke"):
        messages.error(request, "Choose a known role and grant or revoke.")
        return redirect("accounts:users")
    try:
        if action == "grant":
            services.user_role_grant(actor=request.user, user=user, role=role)
        else:
            services.user_role_revoke(actor=request.user, user=user, role=role)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, "%s: %s %s." % (user.username, action == "grant" and "granted" or "revoked", Role(role).label)
        )
    return redirect("accounts:users")
