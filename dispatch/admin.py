"""Dispatch settings in the Django admin: stock minimums, read-only (they are set on the
inventory pages, which keep who set them and raise the low-stock alert)."""

from django.contrib import admin

from accounts.admin import ReadOnlyTenantAdmin
from dispatch.models import StockMinimum


@admin.register(StockMinimum)
class StockMinimumAdmin(ReadOnlyTenantAdmin):
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
