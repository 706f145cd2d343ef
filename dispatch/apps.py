from django.apps import AppConfig


class DispatchConfig(AppConfig):
    """The field-service side of the portal: jobs, technician board, reconciliation, calendars,
    inventory."""

    name = "dispatch"
    verbose_name = "Dispatch and reconciliation"

    def ready(self) -> None:
        """Register the low-stock alert condition (`dispatch.inventory.alerts`)."""
        from connectors.alerts import conditions
        from connectors.alerts.models import AlertKind
        from dispatch.inventory.alerts import low_stock

        conditions.register(AlertKind.LOW_STOCK, low_stock)
