from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Companies, staff and credentials"

    def ready(self) -> None:
        from accounts import checks  # noqa: F401  (registers system checks)
        from accounts.logging import install_record_factory

        install_record_factory()
