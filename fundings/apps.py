from django.apps import AppConfig


class FundingsConfig(AppConfig):
    name = "fundings"
    default_auto_field = "django.db.models.BigAutoField"
