from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "connectors.outbox"
    label = "outbox"
    verbose_name = "Vendor writes (outbox)"

    def ready(self) -> None:
        # Each vendor registers the write operations it knows (connectors/<vendor>/writes.py).
        from connectors.fieldcamp import writes as _fc_writes  # noqa: F401
        from connectors.synchroteam import writes as _st_writes  # noqa: F401
        from connectors.syncro import writes  # noqa: F401
