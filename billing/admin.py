"""Read-mostly admin for billing rows (the pages are where people work)."""

from __future__ import annotations

from django.contrib import admin

from billing.models import ApprovalEvent, BillingDraft, LaborType


@admin.register(LaborType)
class LaborTypeAdmin(admin.ModelAdmin):
    list_display = (
        "tenant",
        "kind",
        "product_name",
        "product_vendor_id",
        "updated_by",
        "updated_at",
    )
    list_filter = ("tenant", "kind")


@admin.register(BillingDraft)
class BillingDraftAdmin(admin.ModelAdmin):
    list_display = (
        "ticket_number",
        "tenant",
        "minutes",
        "labor_type",
        "decision",
        "drafted_by",
        "created_at",
    )
    list_filter = ("tenant", "decision", "labor_type")
    search_fields = ("ticket_number", "customer_name", "comment_body")
    readonly_fields = [f.name for f in BillingDraft._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ApprovalEvent)
class ApprovalEventAdmin(admin.ModelAdmin):
    list_display = ("at", "tenant", "kind", "ticket_number", "actor", "operation")
    list_filter = ("tenant", "kind")
    readonly_fields = [f.name for f in ApprovalEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
