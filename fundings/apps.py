from django.apps import AppConfig


class FundingsConfig(AppConfig):
    name = "fundings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fundings import receivers  # noqa: F401  (connects the signal receivers)
        from fundings.selectors import visible_fundings
        from payments import services as payments

        # Payments below us bind a payment only to a funding its payer may see.
        payments.visible_fundings = visible_fundings
