from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "connectors.outbox"
    label = "outbox"
    verbose_name = "Vendor writes (outbox)"

    def ready(self) -> None:
        # Each vendor registers the write operations it knows (connectors/<vendor>/writes.py).
        from connectors.syncro import writes  # noqa: F401
