"""Celery adapters for relay clusters: ids in, one service call each. Retries only on
transient errors (a provider refusing for now, the database briefly away); every service
is idempotent, and late acks redeliver a task whose worker died."""

from celery import shared_task
from django.db import OperationalError

from events.providers.base import ProviderError
from events.services import clusters, lifecycle, monitoring, teardown

TRANSIENT = (ProviderError, OperationalError)


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=2, max_retries=8)
def plan_cluster_task(webinar_id: int) -> int | None:
    cluster = clusters.plan_cluster(webinar_id)
    return cluster.pk if cluster else None


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=2, max_retries=8)
def provision_cluster_task(cluster_id: int) -> str:
    return clusters.provision_cluster(cluster_id)


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=5, max_retries=10)
def teardown_cluster_task(cluster_id: int, reason: str = "") -> str:
    return teardown.teardown_cluster(cluster_id, reason=reason).state


@shared_task(acks_late=True)
def provision_due_clusters_task() -> int:
    return len(lifecycle.provision_due_clusters())


@shared_task(acks_late=True)
def check_readiness_task() -> int:
    return len(lifecycle.check_readiness())


@shared_task(acks_late=True)
def start_due_webinars_task() -> int:
    return len(lifecycle.start_due_webinars())


@shared_task(acks_late=True)
def complete_due_webinars_task() -> int:
    return len(lifecycle.complete_due_webinars())


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=2)
def monitor_clusters_task() -> int:
    return sum(monitoring.monitor_clusters().values())


@shared_task(acks_late=True)
def teardown_due_clusters_task() -> int:
    return len(teardown.teardown_due_clusters())
