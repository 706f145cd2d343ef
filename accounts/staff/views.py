"""The staff page (owners manage, admins look) and the public invitation pages."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import access, mfa
from accounts.models import MANAGER_ROLES, Membership, Role
from accounts.staff import invitations, members
from accounts.staff.forms import InviteForm, RoleForm, SetPasswordForm
from accounts.staff.models import Invitation, MembershipEvent

OWNERS = (Role.OWNER,)
logger = logging.getLogger(__name__)


def _send(request: HttpRequest, invitation: Invitation) -> None:
    try:
        invitations.send_invitation(invitation, base_url=request.build_absolute_uri("/"))
    except Exception as error:  # any backend failure (SMTP down, refused address)
        logger.warning("Invitation e-mail %s not sent: %r", invitation.uuid, error)
        messages.error(
            request,
            f"The invitation to {invitation.email} is saved but the e-mail could not be sent "
            f"({type(error).__name__}). Check EMAIL_URL, then Resend.",
        )
    else:
        messages.success(request, f"Invitation sent to {invitation.email}.")


@access.tenant_member_required(roles=MANAGER_ROLES)
def staff(request: HttpRequest) -> HttpResponse:
    """Members (role, active, two-step sign-in), open invitations, and the latest changes."""
    tenant = request.tenant
    team = list(tenant.memberships.select_related("user").order_by("-is_active", "role"))
    with_mfa = set(
        TOTPDevice.objects.filter(user__in=[m.user_id for m in team], confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    context = {
        "members": team,
        "with_mfa": with_mfa,
        "invitations": tenant.invitations.open().select_related("invited_by"),
        "events": MembershipEvent.objects.filter(tenant=tenant).select_related("actor")[:25],
        "can_manage": request.membership.role == Role.OWNER,
        "roles": Role.choices,
        "mfa_roles": mfa.MFA_ROLES,
    }
    return render(request, "accounts/staff.html", context)


@access.tenant_member_required(roles=OWNERS)
def invite(request: HttpRequest) -> HttpResponse:
    """Invite an e-mail address with a role; the link goes out by e-mail."""
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitations.invite(
                tenant=request.tenant, by=request.user, **form.cleaned_data
            )
        except invitations.StaffError as error:
            form.add_error("email", str(error))
        else:
            _send(request, invitation)
            return redirect("staff:list")
    hours = settings.INVITATION_MAX_AGE_HOURS
    return render(request, "accounts/staff_invite.html", {"form": form, "hours": hours})


@access.tenant_member_required(roles=OWNERS)
@require_POST
def invitation_action(request: HttpRequest, invitation_uuid: str, action: str) -> HttpResponse:
    """Resend (new link, new expiry) or revoke one of this company's invitations."""
    invitation = access.get_for_tenant_or_404(request, Invitation, uuid=invitation_uuid)
    try:
        if action == "resend":
            _send(request, invitations.refresh_for_resend(invitation, by=request.user))
        else:
            invitations.revoke(invitation, by=request.user)
            messages.success(request, f"The invitation to {invitation.email} is revoked.")
    except invitations.StaffError as error:
        messages.error(request, str(error))
    return redirect("staff:list")


@access.tenant_member_required(roles=OWNERS)
@require_POST
def member_action(request: HttpRequest, member_uuid: str, action: str) -> HttpResponse:
    """Change a member's role, deactivate, reactivate, or reset their two-step sign-in."""
    member = access.get_for_tenant_or_404(
        request, Membership.objects.select_related("user", "tenant"), uuid=member_uuid
    )
    try:
        if action == "role":
            form = RoleForm(request.POST)
            if not form.is_valid():
                raise invitations.StaffError("Choose one of the roles.")
            members.change_role(member, role=form.cleaned_data["role"], by=request.user)
        elif action == "deactivate":
            members.deactivate(member, by=request.user)
        elif action == "reactivate":
            members.reactivate(member, by=request.user)
        elif member.user_id == request.user.pk:
            raise invitations.StaffError("Use your own two-step sign-in page for your devices.")
        else:
            mfa.remove_devices(
                member.user, by=request.user, tenant=request.tenant, membership=member, reset=True
            )
    except invitations.StaffError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{member.user.email}: saved.")
    return redirect("staff:list")


@mfa.mfa_exempt
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail: set a password (new person) or join (existing account)."""
    try:
        invitation = invitations.invitation_from_token(token)
    except invitations.InvitationInvalid as error:
        return _invalid(request, error)
    account = invitations.existing_account(invitation)
    if account is not None:
        return _join(request, invitation, account)
    form = SetPasswordForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitations.accept(
                invitation,
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except invitations.InvitationInvalid as error:
            return _invalid(request, error)
        if request.user.is_authenticated:
            logout(request)
        messages.success(request, "Your password is set. Sign in with it.")
        return redirect("login")
    return render(
        request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form}
    )


def _join(request: HttpRequest, invitation: Invitation, account) -> HttpResponse:
    signed_in_as_invitee = request.user.is_authenticated and request.user.pk == account.pk
    if request.method == "POST" and signed_in_as_invitee:
        try:
            invitations.accept(invitation, user=account)
        except invitations.InvitationInvalid as error:
            return _invalid(request, error)
        messages.success(request, f"You joined {invitation.tenant}.")
        return redirect("tenant_list")
    context = {"invitation": invitation, "signed_in_as_invitee": signed_in_as_invitee}
    return render(request, "accounts/invitation_join.html", context)


def _invalid(request: HttpRequest, error: invitations.InvitationInvalid) -> HttpResponse:
    status = 400 if error.reason == "invalid" else 410
    return render(
        request, "accounts/invitation_invalid.html", {"reason": error.reason}, status=status
    )
