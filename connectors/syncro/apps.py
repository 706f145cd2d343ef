from django.apps import AppConfig


class SyncroConfig(AppConfig):
    name = "connectors.syncro"
    label = "syncro"
    verbose_name = "Syncro mirror"
