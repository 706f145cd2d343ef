from django.apps import AppConfig


class SyncroConfig(AppConfig):
    name = "connectors.syncro"
    label = "syncro"
    verbose_name = "Syncro mirror"

    def ready(self) -> None:
        from connectors.outbox.signals import vendor_write_changed
        from connectors.syncro.receivers import mirror_created_ticket

        vendor_write_changed.connect(
            mirror_created_ticket, dispatch_uid="syncro-mirror-created-ticket"
        )
