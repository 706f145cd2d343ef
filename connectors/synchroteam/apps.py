from django.apps import AppConfig


class SynchroteamConfig(AppConfig):
    name = "connectors.synchroteam"
    label = "synchroteam"
    verbose_name = "Synchroteam mirror"
