from django.apps import AppConfig


class FundingsConfig(AppConfig):
    name = "fundings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fundings import receivers  # noqa: F401  (connects the signal receivers)
