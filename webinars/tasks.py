"""Celery adapters for the booking core: ids and primitives in, one service call
(webinars.jobs has the task rule and the one retry policy, AdapterTask)."""

from celery import shared_task

from webinars import services
from webinars.jobs import AdapterTask


@shared_task(base=AdapterTask)
def expire_holds_task() -> list[str]:
    """Beat runs this every HOLD_SWEEP_SECONDS: expired holds release their capacity."""
    return services.expire_due_holds()
