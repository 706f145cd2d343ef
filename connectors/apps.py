from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Vendor connections and sync"

    def ready(self) -> None:
        from connectors import checks  # noqa: F401  (registers the schedule-budget checks)
