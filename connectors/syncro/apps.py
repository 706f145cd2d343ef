"""The Syncro mirror app; registers the Syncro vendor descriptor when Django is ready."""

from django.apps import AppConfig


class SyncroConfig(AppConfig):
    """Syncro PSA: mirror models, client, mapping, writes (connectors/syncro/)."""

    name = "connectors.syncro"
    label = "syncro"
    verbose_name = "Syncro mirror"

    def ready(self) -> None:
        """Register the vendor descriptor (connectors.vendors) and its mirror watchers
        (connectors.events.watch)."""
        from connectors.syncro.vendor import SYNCRO
        from connectors.vendors import register

        register(SYNCRO)

        from connectors.syncro.events import register_watchers

        register_watchers()
