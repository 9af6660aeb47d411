"""The web's two-step sign-in (accounts/two_factor.py): the login view that stops after the password
for whoever needs a code, the page that takes the code, and the page that sets up an authenticator."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import two_factor
from accounts.forms import SecondFactorForm, TOTPConfirmForm
from accounts.lockout import LOCKED_MESSAGE, login_locked


def _next_url(request: HttpRequest) -> str:
    """The ``next`` the request carries when it is one of ours, else the default after sign-in."""
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class TwoStepLoginView(auth_views.LoginView):
    """Django's login view, which signs in whoever needs a second step only after it."""

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not two_factor.second_factor_needed(user):
            return super().form_valid(form)
        if two_factor.confirmed_device(user) is None:
            # A moderator without an authenticator yet: signed in to set one up, and nothing else
            # (accounts/middleware.py) until it is.
            login(self.request, user)
            query = urlencode({REDIRECT_FIELD_NAME: self.get_success_url()})
            return HttpResponseRedirect("%s?%s" % (reverse("accounts:two-factor-setup"), query))
        two_factor.pending_store(self.request, user=user, next_url=self.get_success_url())
        return HttpResponseRedirect(reverse("accounts:two-factor"))


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Take the code that completes a sign-in (pending after the password), or that a signed-in
    moderator's older session needs before it may go on."""
    pending = two_factor.pending_user(request)
    if pending is not None:
        user, next_url = pending[0], pending[1]["next"]
    elif two_factor.session_needs_second_factor(request) and two_factor.confirmed_device(request.user):
        user, next_url = request.user, _next_url(request)
    elif request.user.is_authenticated:
        return redirect(_next_url(request))
    else:
        messages.info(request, "Sign in again: the time to type your code ran out.")
        return redirect("accounts:login")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if login_locked(user.get_username(), request):
            two_factor.pending_clear(request)
            form.add_error(None, LOCKED_MESSAGE)
        elif method := two_factor.second_factor_verify(user=user, code=form.cleaned_data["code"], request=request):
            if pending is not None:
                two_factor.pending_clear(request)
                login(request, user, backend=user.backend)
            else:
                request.session.cycle_key()  # more rights now: a new session key
            two_factor.session_mark_verified(request.session, user)
            if method == "recovery":
                left = user.totp_device.recovery_codes.filter(used_at__isnull=True).count()
                messages.warning(request, "You signed in with a recovery code; %d left." % left)
            return redirect(next_url)
        else:
            form.add_error("code", two_factor.WRONG_CODE_MESSAGE)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "username": user.get_username(), "next": next_url}
    return render(request, "accounts/two_factor.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: its secret (as text and as an otpauth:// link), then its first code;
    the recovery codes are shown once, in the answer to that."""
    next_url = _next_url(request)
    device = two_factor.confirmed_device(request.user)
    if device is not None:
        left = device.recovery_codes.filter(used_at__isnull=True).count()
        context = {"device": device, "recovery_left": left, "next": next_url}
        return render(request, "accounts/two_factor_setup.html", context)
    _, secret = two_factor.totp_enrolment_start(user=request.user)
    form = TOTPConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.totp_enrolment_confirm(
                user=request.user, code=form.cleaned_data["code"], request=request
            )
        except ValidationError as error:
            form.add_error("code", error.messages)
        else:
            request.session.cycle_key()
            two_factor.session_mark_verified(request.session, request.user)
            return render(request, "accounts/two_factor_recovery.html", {"codes": codes, "next": next_url})
    context = {
        "form": form,
        "secret": secret,
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "uri": two_factor.provisioning_uri(user=request.user, secret=secret),
        "issuer": settings.SIGILLO_TOTP_ISSUER,
        "next": next_url,
        "required": two_factor.two_factor_required(request.user),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=400 if request.method == "POST" else 200)
