"""Sign-in with a second step, and each person's two-step sign-in page (enrol, recovery codes)."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import mfa
from accounts.forms import EmailAuthenticationForm


class CodeForm(forms.Form):
    """A 6-digit authenticator code, or a recovery code (spaces and dashes ignored)."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text="The 6 digits your authenticator app shows, or one of your recovery codes.",
    )


class EnrolCodeForm(CodeForm):
    """The first code from a new authenticator app."""

    code = forms.CharField(
        label="Code from the app",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="6 digits; a new one every 30 seconds.",
    )


class PasswordConfirmForm(forms.Form):
    """The person's current password, to turn two-step sign-in off."""

    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class MfaLoginView(auth_views.LoginView):
    """Django's sign-in; a person with an authenticator goes on to the second step unsigned-in."""

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        """Right password: sign in, or (with an authenticator) go on to the code step."""
        user = form.get_user()
        if mfa.has_authenticator(user):
            mfa.begin_second_step(self.request, user, self.get_success_url())
            return redirect("login_verify")
        return super().form_valid(form)


login_view = mfa.mfa_exempt(MfaLoginView.as_view())
logout_view = mfa.mfa_exempt(auth_views.LogoutView.as_view())


@mfa.mfa_exempt
def login_verify(request: HttpRequest) -> HttpResponse:
    """Second step: the code after the password (or for a signed-in, unverified session).

    A wrong code counts towards django-axes' lockout of the e-mail address and IP.
    """
    if request.user.is_authenticated and (
        request.user.is_verified() or not mfa.has_authenticator(request.user)
    ):
        return redirect("home")
    pending = None if request.user.is_authenticated else mfa.pending_sign_in(request)
    user = request.user if request.user.is_authenticated else (pending and pending[0])
    if not user:
        messages.info(
            request, "Sign in with your password first: the code must follow it within minutes."
        )
        return redirect("login")
    credentials = mfa.axes_credentials(user)
    if AxesProxyHandler.is_locked(request, credentials):
        mfa.cancel_second_step(request)
        return get_lockout_response(request, None, credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa.verify_code(user, form.cleaned_data["code"])
        if device is not None:
            data = pending[1] if pending else None
            mfa.complete_second_step(request, user, device, data)
            return redirect(data["next"] if data else "home")
        if mfa.record_failed_code(request, user):
            mfa.cancel_second_step(request)  # AxesMiddleware answers with the lockout page
        form.add_error("code", "That code is not right (or was already used). Try the next one.")
    return render(request, "registration/login_verify.html", {"form": form, "person": user})


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """The person's two-step sign-in: status, set up or replace, recovery codes, turn off."""
    user = request.user
    context = {
        "enrolled": mfa.has_authenticator(user),
        "codes_left": mfa.recovery_codes_left(user),
        "required": any(mfa.is_required(m) for m in getattr(request, "memberships", [])),
        "password_form": PasswordConfirmForm(),
    }
    return render(request, "accounts/mfa_security.html", context)


def _needs_fresh_code(request: HttpRequest) -> bool:
    """Changing an existing second factor needs a session verified by it."""
    return mfa.has_authenticator(request.user) and not request.user.is_verified()


@mfa.mfa_exempt
@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: the secret as QR and text (this page only), confirmed by a code."""
    if _needs_fresh_code(request):
        return redirect("login_verify")
    device = mfa.enrolling_device(request) if request.method == "POST" else None
    if device is None:
        device = mfa.start_enrolment(request)
        form = EnrolCodeForm()
    else:
        form = EnrolCodeForm(request.POST)
        if form.is_valid():
            codes = mfa.confirm_enrolment(
                request, device, mfa.normalise_code(form.cleaned_data["code"])
            )
            if codes is not None:
                messages.success(request, "Two-step sign-in is on.")
                return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes})
            form.add_error(
                "code", "That code does not match: check the app's clock and try the next one."
            )
    context = {"form": form, "qr": mfa.qr_svg(device), "secret": mfa.secret_text(device)}
    return render(request, "accounts/mfa_enrol.html", context)


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown once (the old ones stop working)."""
    if not mfa.has_authenticator(request.user):
        return redirect("mfa_security")
    if _needs_fresh_code(request):
        return redirect("login_verify")
    codes = mfa.regenerate_recovery_codes(request)
    return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes})


@login_required
@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    """Turn two-step sign-in off (password needed; refused where the company requires it)."""
    if any(mfa.is_required(m) for m in getattr(request, "memberships", [])):
        messages.error(request, "Your company requires two-step sign-in for your role.")
        return redirect("mfa_security")
    form = PasswordConfirmForm(request.POST)
    if _needs_fresh_code(request) or not (
        form.is_valid() and request.user.check_password(form.cleaned_data["password"])
    ):
        messages.error(request, "Enter your password (and sign in with your code) to turn it off.")
        return redirect("mfa_security")
    mfa.remove_devices(
        request.user,
        by=request.user,
        tenant=getattr(request, "tenant", None),
        membership=getattr(request, "membership", None),
    )
    messages.success(request, "Two-step sign-in is off.")
    return redirect("mfa_security")
