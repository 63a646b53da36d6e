"""Extension point for what delivering a webinar cost us.

Delivery (the relay cluster's node-hours) belongs to `events`, the revenue to `billing`,
and neither imports the other. So `events` registers a costing here from
`EventsConfig.ready()`, and the finance page asks `cost_of()` for each delivered webinar
to show its cost beside its revenue (the gross margin).
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from webinars.models import Webinar


@dataclass(frozen=True)
class DeliveryCost:
    """Cost in minor units of the booking's currency, and the node-hours it paid for."""

    minor: int
    currency: str
    node_hours: Decimal


Costing = Callable[[Webinar], DeliveryCost | None]
COSTINGS: list[Costing] = []


def register(costing: Costing) -> Costing:
    if costing not in COSTINGS:
        COSTINGS.append(costing)
    return costing


def cost_of(webinar: Webinar) -> DeliveryCost | None:
    """The delivery cost of `webinar`; None when nothing ran (or nothing is registered)."""
    # One app delivers; if several registered, the last one (the latest ready()) wins.
    return COSTINGS[-1](webinar) if COSTINGS else None
