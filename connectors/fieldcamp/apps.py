from django.apps import AppConfig


class FieldCampConfig(AppConfig):
    name = "connectors.fieldcamp"
    label = "fieldcamp"
    verbose_name = "FieldCamp mirror"
