from django.apps import AppConfig


class DispatchConfig(AppConfig):
    """The field-service side of the portal: jobs, technician board, reconciliation, calendars,
    inventory."""

    name = "dispatch"
    verbose_name = "Dispatch and reconciliation"

    def ready(self) -> None:
        """Register the low-stock alert condition (`dispatch.inventory.alerts`), the
        ``stock.below_threshold`` event, the stock CSV export (`dispatch.inventory.events`) and
        the receivers that expire the reconciliation snapshots (`dispatch.snapshots.connect`)."""
        from connectors.alerts import conditions
        from connectors.alerts.models import AlertKind
        from dispatch import reconciliation, snapshots
        from dispatch.inventory import events
        from dispatch.inventory.alerts import low_stock

        conditions.register(AlertKind.LOW_STOCK, low_stock)
        events.connect()
        snapshots.connect(
            patches={
                "unbilled": reconciliation.drafted_away,
                "technicians": lambda names, tags: names,  # a draft names no technician
            }
        )
