import logging

from django.apps import AppConfig

logger = logging.getLogger("notifications")


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self) -> None:
        # Connects the receivers and registers the system checks.
        from notifications import checks, push, receivers  # noqa: F401

        if not push.is_configured():
            logger.info("push notifications off (no FCM_CREDENTIALS_FILE): in-app only")
