"""Admin for connections and sync history (secrets live in accounts' Credential admin)."""

from __future__ import annotations

from django.contrib import admin

from connectors.models import Connection, LimitState, QuarantinedRecord, SyncRun, SyncStream
from connectors.schedules import connection_schedules_ensure


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    """Connections; saving one creates or updates its sync schedules."""

    list_display = ("tenant", "vendor", "account", "base_url", "enabled", "syncro_auth_mode")
    list_filter = ("vendor", "enabled")
    search_fields = ("account", "tenant__name")

    def save_model(self, request, obj, form, change):
        """Save, then make the connection's schedules match it (connectors.schedules)."""
        super().save_model(request, obj, form, change)
        connection_schedules_ensure(obj)


@admin.register(SyncStream)
class SyncStreamAdmin(admin.ModelAdmin):
    list_display = (
        "connection",
        "resource",
        "high_water",
        "generation",
        "last_success_at",
        "lock_run",
    )
    list_filter = ("connection__vendor",)
    readonly_fields = ("lock_run", "lock_owner", "lock_heartbeat_at")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "connection",
        "stream",
        "mode",
        "trigger",
        "status",
        "pages",
        "created",
        "updated",
        "deleted",
        "quarantined",
        "requests",
        "throttled",
    )
    list_filter = ("status", "mode", "trigger", "connection__vendor")
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        """None: the sync engine writes these rows (an empty add form would break NOT NULL)."""
        return False


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "connection", "resource", "vendor_id", "reason")
    list_filter = ("resource",)
    readonly_fields = [f.name for f in QuarantinedRecord._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        """None: the sync engine writes these rows (an empty add form would break NOT NULL)."""
        return False


@admin.register(LimitState)
class LimitStateAdmin(admin.ModelAdmin):
    list_display = ("scope", "blocked_until", "quota_remaining", "quota_reset_at", "updated_at")
