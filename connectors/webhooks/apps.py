from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Inbound webhooks (connectors/webhooks/) and the batched calendar sync flag."""

    name = "connectors.webhooks"
    label = "webhooks"
    verbose_name = "Inbound webhooks and calendar sync batching"

    def ready(self) -> None:
        """Register the "webhook signature failures spiking" alert condition."""
        from connectors.alerts import conditions
        from connectors.alerts.models import AlertKind
        from connectors.webhooks.alerts import signature_failures_spiking

        conditions.register(AlertKind.WEBHOOK_SIGNATURE_FAILURES, signature_failures_spiking)
