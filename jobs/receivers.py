"""huey's error signal: a job that raised and has no retry left becomes a FailedJob row."""

import logging
import traceback

from jobs.models import FailedJob

logger = logging.getLogger(__name__)


def _arguments(args: tuple, kwargs: dict) -> str:
    parts = [repr(arg) for arg in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
    return ", ".join(parts)[:500]


def record_failure(signal, task, exc=None) -> None:
    if task.retries:
        return  # huey runs it again later (with its back-off): not a failure yet
    name = f"{type(task).__module__}.{task.name}"
    args, kwargs = task.data
    trace = ""
    if exc is not None:
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    FailedJob.objects.create(
        task=name[:200],
        task_id=str(task.id)[:64],
        arguments=_arguments(args, kwargs),
        error=(repr(exc) if exc is not None else "unknown error")[:500],
        traceback=trace,
    )
    logger.error("job %s(%s) failed for good: %r", name, _arguments(args, kwargs), exc)
