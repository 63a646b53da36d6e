"""Where provider calls run. Creating a cluster's nodes, the bulk of a provider's calls and
the ones its API limit slows, is one task per region on the Celery queue `relays.<region>`,
so a deployment places workers by region (near the region's API endpoint, with that
region's credentials) and adds workers per region as it grows. Everything else (the
cluster's coordinator, beat's sweeps, billing) stays on the default queue.

Celery reads `route_task` through CELERY_TASK_ROUTES; `region_queues()` names the queues a
worker serving every region consumes (`manage.py relay_queues`)."""

from __future__ import annotations

from typing import Any

REGION_QUEUE_PREFIX = "relays."
REGION_TASKS = frozenset({"events.tasks.issue_region_nodes_task"})


def region_queue(region: str) -> str:
    return f"{REGION_QUEUE_PREFIX}{region}"


def route_task(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], options: dict[str, Any], **_: Any
) -> dict[str, str] | None:
    """A region's provider calls go to its queue; None leaves every other task where it is."""
    if name in REGION_TASKS and kwargs.get("region"):
        return {"queue": region_queue(kwargs["region"])}
    return None


def region_queues(regions: list[str] | None = None) -> list[str]:
    """The queues of the given regions, or of every active region in the catalogue."""
    if regions is None:
        # Imported here: Celery imports this module to route, possibly before Django's
        # app registry is ready; the catalogue is read only when a worker asks.
        from webinars.models import Region

        regions = list(Region.objects.filter(is_active=True).values_list("code", flat=True))
    return [region_queue(code) for code in regions]
