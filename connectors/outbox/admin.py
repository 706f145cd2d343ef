from django.contrib import admin

from accounts.admin import TenantScopedAdmin
from connectors.outbox.models import VendorWrite, VendorWriteAttempt


class AttemptInline(admin.TabularInline):
    model = VendorWriteAttempt
    extra = 0
    can_delete = False
    fields = ["at", "kind", "outcome", "http_status", "detail", "worker", "actor"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(VendorWrite)
class VendorWriteAdmin(TenantScopedAdmin):
    list_display = [
        "created_at",
        "tenant",
        "operation",
        "target",
        "state",
        "send_count",
        "remote_id",
        "marker",
    ]
    list_filter = ["state", "operation"]
    search_fields = ["business_key", "marker", "remote_id", "batch__key"]
    readonly_fields = [f.name for f in VendorWrite._meta.fields]
    inlines = [AttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
