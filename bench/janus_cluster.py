"""Bring up a real local Janus relay cluster: 1 origin, 2 relays (us-east, eu-west) and 20
edges (10 per relay), with the GStreamer test studio feeding the origin, through the
`janus` provider. ready_s runs from the first create call until every node is healthy and
every edge reports fresh media (age_ms read twice); media_ok counts the nodes that are.
Everything is torn down afterwards and the leak sweep must come back empty.

RESULT nodes=23 ready_s=.. media_ok=23
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

from _common import setup_django


def main() -> None:
    if not Path("/usr/bin/janus").exists() or not shutil.which("gst-launch-1.0"):
        print("RESULT nodes=0 skipped=janus-or-gstreamer-not-installed")
        return
    data_dir = tempfile.mkdtemp(prefix="bench-relays-")
    os.environ["RELAY_DATA_DIR"] = data_dir
    setup_django("bench_janus_cluster")
    from events.providers.base import NodeSpec, Role, default_cascade
    from events.providers.janus import JanusProvider
    from webinars.models import new_booking_code

    provider = JanusProvider()
    code = new_booking_code()
    layout = [("us-east", Role.ORIGIN, 1), ("us-east", Role.RELAY, 1), ("eu-west", Role.RELAY, 1)]
    layout += [("us-east", Role.EDGE, 10), ("eu-west", Role.EDGE, 10)]
    specs = [
        NodeSpec(code, region, role, f"{code}/{region}/{role}/{i}")
        for region, role, count in layout
        for i in range(count)
    ]
    try:
        t0 = time.perf_counter()
        nodes = provider.create_nodes(specs)
        created = time.perf_counter() - t0
        provider.wire(default_cascade(code, provider.describe(code)))
        wired = time.perf_counter() - t0
        healthy = 0
        while time.perf_counter() - t0 < 60:
            health = provider.health_many(provider.describe(code))
            healthy = sum(
                1
                for key, h in health.items()
                if h.ok and (h.media_age_ms is not None or "/edge/" not in key)
            )
            if healthy == len(specs):
                break
            time.sleep(0.2)
        ready = time.perf_counter() - t0
        rss_kb = 0
        for node in nodes:
            status = Path(f"/proc/{node.detail['pid']}/status").read_text()
            rss_kb += int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])
        ages = [h.media_age_ms for h in health.values() if h.media_age_ms is not None]
        print(f"create {created:.2f} s, wire {wired - created:.2f} s, ready {ready:.2f} s")
        print(f"edges fresh: {len(ages)}, max age_ms {max(ages, default=-1)}")
        print(f"Janus RSS total {rss_kb / 1024:.0f} MB over {len(nodes)} processes")
    finally:
        t1 = time.perf_counter()
        provider.teardown(code)
        print(f"teardown {time.perf_counter() - t1:.2f} s, leaks {provider.list_resources(code)}")
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"RESULT nodes={len(specs)} ready_s={ready:.2f} media_ok={healthy}")


if __name__ == "__main__":
    main()
