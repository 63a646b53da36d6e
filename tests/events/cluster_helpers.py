"""Helpers of the relay-cluster tests: confirmed bookings (signals run after commit), a fast
seeded cloud simulation, and provisioning driven to the end."""

from datetime import timedelta

from django.test import TestCase

from events.models import RelayCluster
from events.services import provisioning
from tests.conftest import hold, local_start
from webinars import services
from webinars.models import AuditEntry, Package, User, Webinar

EIGHT_REGIONS = {
    r: 1250
    for r in (
        "us-east", "us-west", "sa-east", "eu-west", "eu-central", "ap-south", "ap-southeast",
        "ap-northeast",
    )
}  # fmt: skip


def simulate(settings, *, failure_rate: float = 0.0, seed: str = "clusters") -> None:
    """A seeded simulation where a 60 s boot takes 60 ms."""
    settings.RELAY_PROVIDER = "simulated"
    settings.RELAY_SIM_TIME_SCALE = 0.001
    settings.RELAY_SIM_FAILURE_RATE = failure_rate
    settings.RELAY_SIM_SEED = seed
    settings.RELAY_SIM_API_RATE = 20.0
    settings.RELAY_SIM_API_BURST = 20
    settings.RELAY_POLL_INTERVAL_S = 0.02
    settings.RELAY_PROVISION_WAIT_S = 30.0


def confirmed(user: User, package: Package, **overrides) -> Webinar:
    """Hold and confirm, running the on-commit callbacks (booking_confirmed, the plan)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        webinar = hold(user, package, **overrides)
        services.confirm_booking(webinar, actor=None)
    return Webinar.objects.get(pk=webinar.pk)


def confirmed_1m(user: User, package: Package) -> Webinar:
    return confirmed(user, package, start_local=local_start(days=40), custom_split=EIGHT_REGIONS)


def provision_to_ready(cluster: RelayCluster) -> RelayCluster:
    with TestCase.captureOnCommitCallbacks(execute=True):
        state = provisioning.provision_cluster(cluster.pk)
    assert state == RelayCluster.State.READY, state
    return RelayCluster.objects.get(pk=cluster.pk)


def actions(cluster: RelayCluster, prefix: str) -> list[str]:
    return list(
        AuditEntry.objects.filter(webinar=cluster.webinar, action__startswith=prefix)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def after_start(webinar: Webinar, minutes: int = 1):
    return webinar.start_at + timedelta(minutes=minutes)


def committed(fn, *args, **kwargs):
    """Call a service and run what it queued for after commit (emails, tasks)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)
