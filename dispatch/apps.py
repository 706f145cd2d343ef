from django.apps import AppConfig


class DispatchConfig(AppConfig):
    """The field-service side of the portal: jobs, technician board, reconciliation, calendars."""

    name = "dispatch"
    verbose_name = "Dispatch and reconciliation"
