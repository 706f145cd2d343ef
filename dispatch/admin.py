"""Dispatch settings in the Django admin: stock minimums, read-only (they are set on the
inventory pages, which keep who set them and raise the low-stock alert)."""

from django.contrib import admin

from accounts.admin import TenantScopedAdmin
from dispatch.models import StockMinimum


@admin.register(StockMinimum)
class StockMinimumAdmin(TenantScopedAdmin):
    list_display = [
        "tenant",
        "depot_vendor_id",
        "part_vendor_id",
        "minimum",
        "below_since",
        "updated_by",
        "updated_at",
    ]
    list_filter = ["tenant"]
    readonly_fields = [f.name for f in StockMinimum._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
