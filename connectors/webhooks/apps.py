from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "connectors.webhooks"
    label = "webhooks"
    verbose_name = "Inbound webhooks and calendar sync batching"
