"""Helpers of the admission tests: a webinar's admission config published straight to Redis
(as events.services.attendance would from SQL), and claims for made-up registrants."""

import json
import time

from events.services import admission
from events.tokens import JoinClaim

T0 = 1_900_000_000.0  # a fixed "now" (seconds): the scripts take the clock as an argument


def publish(
    code: str,
    *,
    capacity: int = 100,
    edges: list[tuple[str, str, str]] | None = None,
    routes: dict[str, list[str]] | None = None,
    edge_max: int = 1050,
    opens: float = T0 - 60,
    ends: float = T0 + 3600,
    ttl_s: int = 90,
) -> None:
    edges = edges if edges is not None else [("e1", "us-east", "10.0.0.1:8088")]
    regions = sorted({region for _e, region, _p in edges})
    routes = routes or {"*": regions}
    admission.script("admission_publish")(
        keys=admission.script_keys(code),
        args=[
            capacity,
            int(opens * 1000),
            int(ends * 1000),
            ttl_s * 1000,
            edge_max,
            json.dumps(routes),
            json.dumps([list(e) for e in edges]),
            int((time.time() + 3600) * 1000),
            "Launch keynote",
            "Europe/Dublin",
            int((opens + 15 * 60) * 1000),
        ],
    )


def claim(code: str, registrant_id: int, region: str = "us-east") -> JoinClaim:
    return JoinClaim(webinar_code=code, registrant_id=registrant_id, region=region)


def seats(code: str) -> int:
    return admission.admission_redis().zcard(admission.key(code, "seen"))


def loads(code: str) -> dict[str, int]:
    raw = admission.admission_redis().hgetall(admission.key(code, "load"))
    return {k.decode(): int(v) for k, v in raw.items()}
