from django.apps import AppConfig


class StaffConfig(AppConfig):
    """Invitations and membership events; its own app so the accounts models module stays small."""

    name = "accounts.staff"
    label = "staff"
    verbose_name = "Staff"
    default_auto_field = "django.db.models.BigAutoField"
