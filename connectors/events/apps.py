from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Outbound webhooks (connectors/events/): endpoints, events, deliveries, mirror watchers."""

    name = "connectors.events"
    label = "events"
    verbose_name = "Outbound webhooks"

    def ready(self) -> None:
        """Connect the mirror watchers to `connectors.signals.mirror_changed`."""
        from connectors.events import watch
        from connectors.signals import mirror_changed

        mirror_changed.connect(watch.on_mirror_changed, dispatch_uid="events.watch")
