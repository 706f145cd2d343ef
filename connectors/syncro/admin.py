"""Read-only admin views of the Syncro mirror (for operators; staff work in the portal pages).

Rows are scoped to the tenants the admin user manages (`accounts.admin.TenantScopedAdmin`); the
mirror is written only by the sync engine, so nothing here can be added, changed or deleted.
"""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import TenantScopedAdmin
from connectors.syncro.models import SyncroCustomer, SyncroInvoice, SyncroTicket


class MirrorAdmin(TenantScopedAdmin):
    list_select_related = ["tenant"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SyncroTicket)
class SyncroTicketAdmin(MirrorAdmin):
    list_display = [
        "number",
        "subject",
        "status",
        "priority",
        "customer_name",
        "user_vendor_id",
        "vendor_created_at",
    ]
    list_filter = ["status", "priority"]
    search_fields = ["number", "subject", "customer_name"]
    list_per_page = 25  # the portal's ticket list default, so the two compare like for like
    ordering = ["-vendor_created_at"]


@admin.register(SyncroCustomer)
class SyncroCustomerAdmin(MirrorAdmin):
    list_display = ["name", "email", "phone", "disabled", "vendor_updated_at"]
    search_fields = ["name", "email"]


@admin.register(SyncroInvoice)
class SyncroInvoiceAdmin(MirrorAdmin):
    list_display = ["number", "customer_name", "ticket_vendor_id", "date", "total", "is_paid"]
    search_fields = ["number", "customer_name"]
