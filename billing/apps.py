from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing review and approval"

    def ready(self) -> None:
        from billing import receivers  # noqa: F401  (connects vendor_write_changed)
