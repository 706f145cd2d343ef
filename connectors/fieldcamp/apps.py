"""The FieldCamp mirror app; registers the FieldCamp vendor descriptor when Django is ready."""

from django.apps import AppConfig


class FieldCampConfig(AppConfig):
    """FieldCamp: mirror models, client, mapping, writes, webhooks (connectors/fieldcamp/)."""

    name = "connectors.fieldcamp"
    label = "fieldcamp"
    verbose_name = "FieldCamp mirror"

    def ready(self) -> None:
        """Register the vendor descriptor (connectors.vendors) and the alert condition."""
        from connectors.alerts import conditions
        from connectors.alerts.models import AlertKind
        from connectors.fieldcamp.alerts import integration_disconnected
        from connectors.fieldcamp.vendor import FIELDCAMP
        from connectors.vendors import register

        register(FIELDCAMP)
        conditions.register(AlertKind.INTEGRATION_DISCONNECTED, integration_disconnected)
