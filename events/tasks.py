"""Celery adapters for relay clusters and attendees: ids in, one service call each. The
one retry policy (`webinars.jobs.AdapterTask`) retries transient errors only, a provider's
included (`ProviderError` is a `TransientError`); every service is idempotent, and late
acks redeliver a task whose worker died."""

from celery import shared_task

from events.services import (
    attendance,
    clusters,
    invitations,
    invitees,
    join_links,
    lifecycle,
    monitoring,
    provisioning,
    rehearsals,
    teardown,
)
from webinars.jobs import AdapterTask


@shared_task(base=AdapterTask)
def plan_cluster_task(webinar_id: int) -> int | None:
    cluster = clusters.plan_cluster(webinar_id)
    return cluster.pk if cluster else None


@shared_task(base=AdapterTask)
def provision_cluster_task(cluster_id: int) -> str:
    return provisioning.provision_cluster(cluster_id)


@shared_task(base=AdapterTask)
def teardown_cluster_task(cluster_id: int, reason: str = "") -> str:
    return teardown.teardown_cluster(cluster_id, reason=reason).state


@shared_task(base=AdapterTask)
def provision_due_clusters_task() -> int:
    return len(lifecycle.provision_due_clusters())


@shared_task(base=AdapterTask)
def check_readiness_task() -> int:
    return len(lifecycle.check_readiness())


@shared_task(base=AdapterTask)
def start_due_webinars_task() -> int:
    return len(lifecycle.start_due_webinars())


@shared_task(base=AdapterTask)
def complete_due_webinars_task() -> int:
    return len(lifecycle.complete_due_webinars())


@shared_task(base=AdapterTask)
def monitor_clusters_task() -> int:
    return sum(monitoring.monitor_clusters().values())


@shared_task(base=AdapterTask)
def teardown_due_clusters_task() -> int:
    return len(teardown.teardown_due_clusters())


@shared_task(base=AdapterTask)
def issue_region_nodes_task(cluster_id: int, region: str, token: str) -> int:
    """Routed to the queue `relays.<region>` (events/routing.py)."""
    return provisioning.issue_region_nodes(cluster_id, region, token=token)


@shared_task(base=AdapterTask)
def send_staff_invitations_task(webinar_id: int) -> int:
    return invitations.send_invitations(webinar_id)


@shared_task(base=AdapterTask)
def notify_team_cancelled_task(webinar_id: int) -> int:
    return invitations.notify_team_cancelled(webinar_id)


@shared_task(base=AdapterTask)
def fill_open_roles_task() -> int:
    return invitations.fill_all_open_roles()


@shared_task(base=AdapterTask)
def send_rehearsal_invitations_task(assignment_id: int) -> int:
    return rehearsals.send_rehearsal_invitations(assignment_id)


@shared_task(base=AdapterTask)
def publish_admission_task(webinar_id: int) -> int | None:
    return attendance.publish_admission(webinar_id)


@shared_task(base=AdapterTask)
def publish_due_admissions_task() -> int:
    return sum(attendance.publish_due_admissions().values())


@shared_task(base=AdapterTask)
def record_attendance_task(webinar_id: int) -> int:
    return attendance.record_attendance(webinar_id).attended


@shared_task(base=AdapterTask, bind=True)
def send_join_links_task(self: AdapterTask, webinar_id: int) -> int:
    """One batch of join-link emails; while links are pending, queue the next run (later,
    when the global mail bucket is empty) unless one is queued already."""
    batch = join_links.send_link_batch(webinar_id)
    if batch.more and join_links.claim_next_run(webinar_id):
        self.apply_async(kwargs={"webinar_id": webinar_id}, countdown=batch.wait_s)
    return batch.sent


@shared_task(base=AdapterTask)
def import_invitees_task(import_id: int, send_links: bool = True) -> str:
    return invitees.run_import(import_id, send_links=send_links).state
