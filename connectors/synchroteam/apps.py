"""The Synchroteam mirror app; registers the Synchroteam vendor descriptor when Django is ready."""

from django.apps import AppConfig


class SynchroteamConfig(AppConfig):
    """Synchroteam: mirror models, client, mapping, writes, webhooks (connectors/synchroteam/)."""

    name = "connectors.synchroteam"
    label = "synchroteam"
    verbose_name = "Synchroteam mirror"

    def ready(self) -> None:
        """Register the vendor descriptor (connectors.vendors) and its mirror watchers
        (connectors.events.watch)."""
        from connectors.synchroteam.vendor import SYNCHROTEAM
        from connectors.vendors import register

        register(SYNCHROTEAM)

        from connectors.synchroteam.events import register_watchers

        register_watchers()
