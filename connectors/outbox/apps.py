from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """The outbox: planned writes, VendorWrite intents, executor, sweeper. Write handlers come
    from each vendor's descriptor (``connectors/<vendor>/vendor.py`` imports its ``writes.py``,
    which registers them), so the outbox names no vendor."""

    name = "connectors.outbox"
    label = "outbox"
    verbose_name = "Vendor writes (outbox)"
