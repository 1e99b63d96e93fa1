import logging

from django.apps import AppConfig

logger = logging.getLogger("notifications")


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self) -> None:
        from notifications import push, receivers  # noqa: F401  (connects the receivers)

        if not push.is_configured():
            logger.info("push notifications off (no FCM_CREDENTIALS_FILE): in-app only")
