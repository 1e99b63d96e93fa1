from django.apps import AppConfig
from django.conf import settings


class PaymentsConfig(AppConfig):
    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from payments import checks

        # gunicorn runs no system checks: a server with a broken payment configuration must
        # not start. Locally (DEBUG on) `manage.py check` and runserver report them instead.
        if not settings.DEBUG:
            checks.refuse_bad_configuration()
