"""Relay-cluster sizing. Pure Python, no Django imports.

A webinar is a fan-out tree: origins take the studio feed, one relay pair per region carries
it across regions, and edges serve the viewers. Per region r with forecast peak viewers N_r:
    edges_r  = ceil(N_r * surge / viewers_per_edge), plus spare max(1, ceil(spare_ratio * that))
               (N+1 redundancy: at least one spare edge, 10 % by default)
    relays_r = relays_per_region (an active and a standby relay) when more than one region
               is used, else 0
    origins  = `origins` nodes (primary and hot standby) in the primary region (largest
               share; ties -> first listed)
`viewers_per_edge` is what one edge serves with headroom (its CPU and egress limits at the
top simulcast layer); measure it for the engine and instance type in use.

Examples with the defaults: 10k in one region -> 11 edges + 2 origins = 13 nodes;
1M split evenly over 8 regions -> 8 x 132 edges + 16 relays + 2 origins = 1,074 nodes.
"""

import math
from dataclasses import asdict, dataclass, field
from fractions import Fraction

BASIS_POINTS = 10_000  # a region's share of the audience, 10,000 = 100 %


@dataclass(frozen=True)
class SizingParams:
    viewers_per_edge: int = 1050
    surge: float = 1.0
    spare_ratio: float = 0.10
    relays_per_region: int = 2
    origins: int = 2

    def __post_init__(self) -> None:
        if self.viewers_per_edge <= 0:
            raise ValueError("viewers_per_edge must be positive")
        if self.surge < 1.0:
            raise ValueError("surge must be at least 1.0")
        if not 0 <= self.spare_ratio <= 1:
            raise ValueError("spare_ratio must be between 0 and 1")


@dataclass(frozen=True)
class RegionPlan:
    region: str
    viewers: int
    edges: int
    spare_edges: int
    relays: int
    origins: int

    @property
    def nodes(self) -> int:
        return self.edges + self.spare_edges + self.relays + self.origins


@dataclass(frozen=True)
class ClusterPlan:
    capacity: int
    regions: tuple[RegionPlan, ...] = field(default_factory=tuple)

    @property
    def total_nodes(self) -> int:
        return sum(r.nodes for r in self.regions)

    def nodes_by_region(self) -> dict[str, int]:
        return {r.region: r.nodes for r in self.regions}

    def as_dict(self) -> dict[str, object]:
        return {
            "capacity": self.capacity,
            "total_nodes": self.total_nodes,
            "regions": [asdict(r) | {"nodes": r.nodes} for r in self.regions],
        }


def viewers_per_region(capacity: int, split: dict[str, int]) -> dict[str, int]:
    """Share `capacity` out by basis points, rounding each region up so no viewer is lost."""
    if not split:
        raise ValueError("the audience split names no region")
    if any(bp <= 0 for bp in split.values()):
        raise ValueError("every region in the split needs a positive share")
    if sum(split.values()) != BASIS_POINTS:
        raise ValueError("the audience split must add up to 100%")
    return {region: math.ceil(capacity * bp / BASIS_POINTS) for region, bp in split.items()}


def size_cluster(
    capacity: int, split: dict[str, int], params: SizingParams | None = None
) -> ClusterPlan:
    """Return the relay cluster a webinar of `capacity` viewers split as `split` needs."""
    params = params or SizingParams()
    if capacity <= 0:
        raise ValueError("capacity must be positive")
    viewers = viewers_per_region(capacity, split)
    multi_region = len(viewers) > 1
    primary = max(viewers, key=lambda r: (viewers[r], -list(viewers).index(r)))
    plans = []
    for region, n in viewers.items():
        # Fractions, not floats: 0.1 * 120 is 12.000000000000002 in binary floating point.
        edges = math.ceil(n * Fraction(str(params.surge)) / params.viewers_per_edge)
        spare = max(1, math.ceil(Fraction(str(params.spare_ratio)) * edges))
        plans.append(
            RegionPlan(
                region=region,
                viewers=n,
                edges=edges,
                spare_edges=spare,
                relays=params.relays_per_region if multi_region else 0,
                origins=params.origins if region == primary else 0,
            )
        )
    return ClusterPlan(capacity=capacity, regions=tuple(plans))
