"""Celery adapters for the booking core: ids and primitives in, one service call."""

from celery import shared_task

from webinars import services


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def expire_holds_task() -> list[str]:
    """Beat runs this every HOLD_SWEEP_SECONDS: expired holds release their capacity."""
    return services.expire_due_holds()
