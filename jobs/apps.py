from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from huey.contrib.djhuey import HUEY
        from huey.signals import SIGNAL_ERROR

        from jobs.receivers import record_failure

        # Every process that runs jobs (a consumer, or the tests' immediate mode) records
        # the ones that gave up. Connected once: ready() runs once per process.
        HUEY.signal(SIGNAL_ERROR)(record_failure)
