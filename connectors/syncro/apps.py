"""The Syncro mirror app; registers the Syncro vendor descriptor when Django is ready."""

from django.apps import AppConfig


class SyncroConfig(AppConfig):
    """Syncro PSA: mirror models, client, mapping, writes (connectors/syncro/)."""

    name = "connectors.syncro"
    label = "syncro"
    verbose_name = "Syncro mirror"

    def ready(self) -> None:
        """Register the vendor descriptor (connectors.vendors) and the mirror receiver."""
        from connectors.syncro.vendor import SYNCRO
        from connectors.vendors import register

        register(SYNCRO)
        from connectors.outbox.signals import vendor_write_changed
        from connectors.syncro.receivers import mirror_created_ticket

        vendor_write_changed.connect(
            mirror_created_ticket, dispatch_uid="syncro-mirror-created-ticket"
        )
