"""Outbound webhooks in the Django admin: read-only views for support (the portal's pages at
``/events/`` are where endpoints are made, edited and re-sent). An endpoint's signing secret is
never shown here, only its fingerprint."""

from django.contrib import admin

from accounts.admin import ReadOnlyTenantAdmin
from connectors.events.models import (
    DeliveryAttempt,
    OutboundEvent,
    WebhookDelivery,
    WebhookEndpoint,
)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyTenantAdmin):
    list_display = ["url", "tenant", "is_active", "secret_fingerprint", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    exclude = ["secret"]
    readonly_fields = [f.name for f in WebhookEndpoint._meta.fields if f.name != "secret"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secret")  # not even decrypted


@admin.register(OutboundEvent)
class OutboundEventAdmin(ReadOnlyTenantAdmin):
    list_display = ["created_at", "tenant", "event_type", "uuid"]
    list_filter = ["event_type"]
    search_fields = ["uuid"]
    readonly_fields = [f.name for f in OutboundEvent._meta.fields]
    show_full_result_count = False


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "duration_ms", "status_code", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyTenantAdmin):
    list_display = ["created_at", "tenant", "endpoint", "state", "attempts", "last_status"]
    list_filter = ["state"]
    search_fields = ["uuid", "event__uuid"]
    list_select_related = ["endpoint", "tenant"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [AttemptInline]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("endpoint__secret")
