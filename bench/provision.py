"""Provision the 1M package over 8 regions (1,074 nodes) on the SIMULATED provider through
real Celery workers: boots of 60 s +/- 15 s, 5 % boot failures, 20 API calls/s per region,
time-scaled (TIME_SCALE real seconds per simulated second) so the run takes under a minute.

ready_s   real seconds from queueing the provisioning task until the cluster is ready
bound_s   the floor no control plane can beat, in real seconds: per region, its API-limited
          issue time ((nodes - burst) / rate) plus its slowest boot, where a failed boot adds
          its replacement's boot (and so on while replacements fail, from the same seeded
          draws the simulation uses); the slowest region decides
ratio     ready_s / bound_s (target <= 1.1)
control_cpu_s  CPU seconds the worker processes spent, per 1,000 nodes
plan_ms   planning the cluster (1,074 node rows and the cascade)

RESULT nodes=1074 ready_s=.. bound_s=.. ratio=.. control_cpu_s=.. plan_ms=..
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, seed_round_the_clock_roster, setup_django

TIME_SCALE = 0.2
QUEUE = "bench-provision"  # its own queue: no other message reaches these workers
SIMULATION = {
    "RELAY_PROVIDER": "simulated",
    "RELAY_SIM_TIME_SCALE": str(TIME_SCALE),
    "RELAY_SIM_BOOT_MEAN_S": "60",
    "RELAY_SIM_BOOT_JITTER_S": "15",
    "RELAY_SIM_FAILURE_RATE": "0.05",
    "RELAY_SIM_API_RATE": "20",
    "RELAY_SIM_API_BURST": "20",
    "RELAY_SIM_SEED": "bench-provision",
    "RELAY_POLL_INTERVAL_S": "0.25",
    "LOG_LEVEL": "WARNING",
}
REGIONS = (
    "us-east", "us-west", "sa-east", "eu-west", "eu-central", "ap-south", "ap-southeast",
    "ap-northeast",
)  # fmt: skip


def cpu_seconds(root_pid: int) -> float:
    """utime + stime of a process and all its descendants (the prefork pool)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


def bound_seconds(cluster, params) -> float:
    """Per region: its API-limited issue time plus its slowest slot, where a slot whose boot
    failed adds the boot of its replacement (and of the replacement's, if that failed too,
    as the seeded draws say); the slowest region decides."""
    from events.services.clusters import node_key

    slowest = 0.0
    slots = cluster.nodes.filter(generation=1).values_list("region", "role", "index")
    by_region: dict[str, list[tuple[str, int]]] = {}
    for region, role, index in slots:
        by_region.setdefault(region, []).append((role, index))
    for region, group in by_region.items():
        issue = max(0, len(group) - params.api_burst) / params.api_rate
        worst = 0.0
        for role, index in group:
            total, generation = 0.0, 1
            while True:
                boot, fails = params.draw(node_key(cluster.code, region, role, index, generation))
                total += boot
                if not fails:
                    break
                generation += 1
            worst = max(worst, total)
        slowest = max(slowest, issue + worst)
    return slowest * params.time_scale


def timeline(cluster, t0: float) -> None:
    """Where the time went, in real seconds from queueing the task (printed, not in RESULT)."""
    from events.providers.base import get_provider
    from webinars.models import AuditEntry

    entries = AuditEntry.objects.filter(webinar=cluster.webinar)

    def at(action: str, last: bool = False) -> str:
        e = entries.filter(action=action).order_by("-pk" if last else "pk").first()
        return f"{e.created_at.timestamp() - t0:.2f}" if e else "-"

    records = get_provider()._records(cluster.code)  # the simulation's own view
    issued = [r["issued_at"] - t0 for r in records.values()]
    booted = [r["ready_at"] - t0 for r in records.values()]
    print(
        f"claimed {at('cluster.provisioning')}, first pending {at('relaynode.pending')}, "
        f"last pending {at('relaynode.pending', True)}, "
        f"issued {min(issued):.2f}..{max(issued):.2f}, "
        f"last boot {max(booted):.2f}, last serving {at('relaynode.serving', True)}, "
        f"ready {at('cluster.ready')}"
    )


def main() -> None:
    os.environ.update(SIMULATION)
    url = setup_django("bench_provision")
    seed_round_the_clock_roster()  # every hold needs an Event Services team
    from datetime import datetime, timedelta

    from django.utils import timezone

    from config.celery import app
    from events.models import RelayCluster
    from events.providers.base import get_provider
    from events.providers.simulated import SimulationParams
    from events.services import clusters, teardown
    from events.tasks import provision_cluster_task
    from webinars import services
    from webinars.models import Package

    user = services.register_organiser(email="bench@provision.example", password="x" * 16)
    org = services.create_organisation(
        user, actor=user, legal_name="Bench Org", address_line1="1 Main St", city="X",
        postal_code="1", country="US", billing_email="billing@bench.example",
    )  # fmt: skip
    day = (timezone.now() + timedelta(days=40)).date()
    webinar = services.book_webinar(
        org,
        actor=user,
        title="Bench",
        package=Package.objects.get(code="1m"),
        start_local=datetime(day.year, day.month, day.day, 15, 0),
        timezone_name="UTC",
        duration_minutes=60,
        preset="custom",
        custom_split={r: 1250 for r in REGIONS},
    )
    app.conf.task_always_eager = True  # the confirmation's plan task: run inline here
    services.confirm_booking(webinar, actor=None)
    RelayCluster.objects.filter(webinar=webinar).delete()  # plan again, timed
    t = time.perf_counter()
    cluster = clusters.plan_cluster(webinar.pk)
    plan_ms = (time.perf_counter() - t) * 1000
    app.conf.task_always_eager = False
    assert cluster is not None and cluster.planned_nodes == 1074, cluster

    with app.connection_for_write() as conn:  # a message left by an interrupted run
        conn.default_channel.queue_purge(QUEUE)
    env = dict(os.environ, DATABASE_URL=url)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "WARNING",
                "-c",
                "1",
                "-n",
                f"bench{i}@%h",
                "-Q",
                QUEUE,
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for i in range(2)
    ]
    try:
        time.sleep(4)  # workers up
        cpu0 = sum(cpu_seconds(w.pid) for w in workers)
        t0, t0_wall = time.perf_counter(), time.time()
        provision_cluster_task.apply_async(kwargs={"cluster_id": cluster.pk}, queue=QUEUE)
        while time.perf_counter() - t0 < 300:
            state = RelayCluster.objects.get(pk=cluster.pk).state
            if state in (RelayCluster.State.READY, RelayCluster.State.FAILED):
                break
            time.sleep(0.05)
        ready_s = time.perf_counter() - t0
        cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu0
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            w.wait(timeout=30)
    cluster.refresh_from_db()
    assert cluster.state == RelayCluster.State.READY, cluster.state
    failures = cluster.incidents.filter(kind="boot_failed").count()
    bound_s = bound_seconds(cluster, SimulationParams.from_settings())
    timeline(cluster, t0_wall)
    t1 = time.perf_counter()
    teardown.teardown_cluster(cluster.pk)
    leaks = get_provider().list_resources(cluster.code)
    print(f"ready in {ready_s:.2f} s (bound {bound_s:.2f} s), {failures} boot failures replaced")
    print(f"teardown {time.perf_counter() - t1:.2f} s, leaks {leaks}")
    print(f"control plane CPU {cpu:.2f} s for 1074 nodes")
    print(
        f"RESULT nodes={cluster.planned_nodes} ready_s={ready_s:.2f} bound_s={bound_s:.2f} "
        f"ratio={ready_s / bound_s:.3f} control_cpu_s={cpu / 1.074:.2f} plan_ms={plan_ms:.0f}"
    )


if __name__ == "__main__":
    main()
