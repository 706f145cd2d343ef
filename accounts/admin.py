"""Django admin for companies, staff and the credential vault.

Superusers see every tenant. Staff who are owners or admins of a tenant see only their tenants'
rows. Secrets are write-only: the change form has a password-style field that is never rendered
back, and lists show only the fingerprint (last 4 characters).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from accounts.forms import CredentialAdminForm
from accounts.models import MANAGER_ROLES, Credential, CredentialEvent, Membership, Tenant, User


def managed_tenant_ids(request) -> list[int] | None:
    """Tenant ids the admin user may manage; None means all (superuser)."""
    if request.user.is_superuser:
        return None
    return list(
        Membership.objects.filter(
            user=request.user, is_active=True, role__in=MANAGER_ROLES
        ).values_list("tenant_id", flat=True)
    )


class TenantScopedAdmin(admin.ModelAdmin):
    """Restricts rows and foreign-key choices to the tenants the admin user manages."""

    tenant_field = "tenant"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = managed_tenant_ids(request)
        return qs if ids is None else qs.filter(**{f"{self.tenant_field}__in": ids})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        ids = managed_tenant_ids(request)
        if ids is not None and db_field.name == "tenant":
            kwargs["queryset"] = Tenant.objects.filter(id__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return (
            request.user.is_active
            and request.user.is_staff
            and (request.user.is_superuser or bool(managed_tenant_ids(request)))
        )

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_change_permission = has_view_permission
    has_add_permission = has_view_permission

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class ReadOnlyTenantAdmin(TenantScopedAdmin):
    """A `TenantScopedAdmin` that only shows: rows whose every write goes through the portal
    (which checks, audits and tells the vendor) are looked at here, never added, changed or
    deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    tenant_field = "id"
    list_display = ["name", "slug", "four_eyes_approval", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def get_inlines(self, request, obj):
        # Member management lists every user account, so it is for superusers only.
        return [MembershipInline] if request.user.is_superuser else []

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        ids = managed_tenant_ids(request)
        return qs if ids is None else qs.filter(id__in=ids)

    def has_add_permission(self, request):
        return request.user.is_superuser


class CredentialEventInline(admin.TabularInline):
    model = CredentialEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "actor", "detail"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Credential)
class CredentialAdmin(TenantScopedAdmin):
    form = CredentialAdminForm
    list_display = [
        "label",
        "tenant",
        "vendor",
        "purpose",
        "owner",
        "masked",
        "status",
        "verified_identity",
        "last_verified_at",
        "rotated_at",
    ]
    list_filter = ["vendor", "status", "purpose"]
    search_fields = ["label", "tenant__name", "owner__email"]
    readonly_fields = [
        "masked",
        "created_by",
        "created_at",
        "rotated_by",
        "rotated_at",
        "last_verified_at",
        "verified_identity",
        "verified_vendor_user_id",
        "last_error",
    ]
    inlines = [CredentialEventInline]
    actions = ["revoke_selected"]

    def get_fieldsets(self, request, obj=None):
        main = ["tenant", "vendor", "purpose", "owner", "label", "status"]
        if obj is not None:
            main.insert(0, "masked")
        return [
            (None, {"fields": main}),
            (
                "Secret (write-only; fill to rotate)" if obj else "Secret",
                {"fields": ["new_secret"]},
            ),
            (
                "History",
                {
                    "fields": [
                        "created_by",
                        "created_at",
                        "rotated_by",
                        "rotated_at",
                        "last_verified_at",
                        "verified_identity",
                        "verified_vendor_user_id",
                        "last_error",
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        """The company of an existing credential cannot change (its owner and events belong
        to it)."""
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "tenant"] if obj is not None else fields

    @admin.display(description="Secret")
    def masked(self, obj: Credential) -> str:
        return f"••••{obj.fingerprint}" if obj.pk else "—"

    @method_decorator(sensitive_post_parameters("new_secret"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The add/change form; the typed secret is hidden from error reports."""
        return super().changeform_view(request, object_id, form_url, extra_context)

    @sensitive_variables("new_secret")
    def save_model(self, request, obj: Credential, form, change):
        new_secret = form.cleaned_data.get("new_secret")
        with transaction.atomic():
            if not change:
                obj.created_by = request.user
                obj.set_secret(new_secret)
                obj.save()
                CredentialEvent.record(
                    obj,
                    CredentialEvent.Action.CREATED,
                    request.user,
                    f"fingerprint …{obj.fingerprint}",
                )
            elif new_secret:
                obj.save()  # other edited fields
                obj.rotate(new_secret, by=request.user)
                messages.info(request, f"Rotated: the credential now ends in …{obj.fingerprint}.")
            else:
                obj.save()

    @admin.action(description="Revoke selected credentials")
    def revoke_selected(self, request, queryset):
        count = 0
        for cred in queryset.exclude(status="revoked"):
            cred.revoke(by=request.user)
            count += 1
        self.message_user(request, f"Revoked {count} credential(s).")


@admin.register(CredentialEvent)
class CredentialEventAdmin(TenantScopedAdmin):
    list_display = ["at", "tenant", "credential", "action", "actor", "detail"]
    list_filter = ["action"]
    readonly_fields = ["at", "tenant", "credential", "action", "actor", "detail"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
