"""The cloud simulation: boots take the scaled time, the failure rate is honoured with a
seed, quotas refuse beyond the limit, the API rate limit is shared by every worker, and
the state is shared across processes through Redis."""

import os
import subprocess
import sys
import time

import pytest

from events.providers.base import (
    NodeSpec,
    NodeState,
    QuotaExceeded,
    Role,
    default_cascade,
    get_provider,
    wait_settled,
)
from events.providers.simulated import SimulatedProvider, SimulationParams
from tests.events.conftest import new_code

FAST = {"api_rate": 1000, "api_burst": 1000}


@pytest.fixture
def make(redis_conn):
    """SimulatedProvider factory; every webinar it touched is torn down afterwards."""
    made = []

    def build(**params):
        provider = SimulatedProvider(SimulationParams(**params), client=redis_conn)
        made.append(provider)
        return provider

    yield build
    for provider in made:
        for key in redis_conn.scan_iter("relaysim:{W-*}:regions"):
            provider.teardown(key.decode().split("{")[1].split("}")[0])


def specs(code, region, role, n, prefix=""):
    return [NodeSpec(code, region, role, f"{code}/{region}/{role}/{prefix}{i}") for i in range(n)]


def test_boots_complete_within_the_scaled_time(make, code):
    sim = make(boot_mean_s=60, boot_jitter_s=15, failure_rate=0, time_scale=0.01, **FAST)
    nodes = sim.create_nodes(specs(code, "us-east", Role.EDGE, 20))
    assert {n.state for n in nodes} == {NodeState.PENDING}  # nothing boots at once
    assert all(45 <= n.detail["boot_s"] <= 75 for n in nodes)
    time.sleep(0.75 + 0.05)  # the slowest possible boot, 75 simulated s, scaled
    assert {n.state for n in sim.describe(code)} == {NodeState.RUNNING}


def test_the_failure_rate_is_honoured_and_a_seed_repeats_it(make):
    params = dict(boot_mean_s=1, boot_jitter_s=0, failure_rate=0.1, time_scale=0.001, **FAST)
    runs = []
    for seed in ("a", "a", "b"):
        sim = make(seed=seed, **params)
        code = new_code()
        keys = [NodeSpec(code, "us-east", Role.EDGE, f"edge/{i}") for i in range(1000)]
        sim.create_nodes(keys)
        settled = wait_settled(sim, code, [k.request_key for k in keys], timeout=10)
        runs.append({k for k, n in settled.items() if n.state == NodeState.FAILED})
        assert all("boot failed" in settled[k].reason for k in runs[-1])
    assert 60 <= len(runs[0]) <= 140  # 10 % of 1,000, within about 4.5 standard deviations
    assert runs[0] == runs[1]  # same seed, same fate for the same keys
    assert runs[0] != runs[2]


def test_quotas_refuse_beyond_the_limit_across_webinars(make, code):
    sim = make(region_quotas={"us-east": 5}, failure_rate=0, **FAST)
    first = sim.create_nodes(specs(code, "us-east", Role.EDGE, 4))
    other = new_code()
    with pytest.raises(QuotaExceeded) as refused:
        sim.create_nodes(specs(other, "us-east", Role.EDGE, 2))
    assert (refused.value.limit, refused.value.in_use, refused.value.requested) == (5, 4, 2)
    assert sim.describe(other) == []  # refused whole: nothing was started
    assert len(sim.create_nodes(specs(code, "us-east", Role.EDGE, 4))) == 4  # a retry is free
    sim.create_nodes(specs(code, "eu-west", Role.EDGE, 3))  # other regions have their own
    sim.terminate(first[0])
    assert len(sim.create_nodes(specs(other, "us-east", Role.EDGE, 2))) == 2
    with pytest.raises(QuotaExceeded):
        sim.create_nodes(specs(other, "us-east", Role.EDGE, 1, prefix="x"))


SIM_WORKER = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
from events.providers.base import NodeSpec, Role
from events.providers.simulated import SimulatedProvider, SimulationParams
code, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sim = SimulatedProvider(SimulationParams(api_rate=10, api_burst=2, failure_rate=0, seed="s"))
sim.create_nodes([NodeSpec(code, "us-east", Role.EDGE, f"{name}/{i}") for i in range(n)])
"""


def test_the_api_rate_limit_is_shared_by_worker_processes(make, code, settings):
    sim = make(api_rate=10, api_burst=2, failure_rate=0, seed="s")
    env = dict(os.environ, REDIS_URL=settings.REDIS_URL)
    workers = [
        subprocess.Popen([sys.executable, "-c", SIM_WORKER, code, f"worker{w}", "12"], env=env)
        for w in range(2)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    nodes = sim.describe(code)
    assert len(nodes) == 24  # both workers' launches are in the one shared state
    issued = sorted(n.detail["issued_at"] for n in nodes)
    window = issued[-1] - issued[0]
    # Launch calls over the window never exceed burst + rate x window of ONE bucket.
    assert len(issued) <= 2 + 10 * window + 1, window


def test_media_follows_the_cascade_and_a_crash_is_seen(make, code):
    sim = make(boot_mean_s=0, boot_jitter_s=0, failure_rate=0, **FAST)
    sim.create_nodes(
        specs(code, "us-east", Role.ORIGIN, 1)
        + specs(code, "eu-west", Role.RELAY, 1)
        + specs(code, "eu-west", Role.EDGE, 2)
        + specs(code, "eu-west", Role.SPARE, 1)
    )
    result = sim.wire(default_cascade(code, sim.describe(code)))
    assert (result.added, result.removed) == (4, 0)
    health = sim.health_many(sim.describe(code))
    assert all(h.ok for h in health.values())
    assert [h.media_age_ms is not None for h in health.values()] == [
        True,
        True,
        False,
        False,
        False,
    ]
    relay = next(n for n in sim.describe(code) if n.role == Role.RELAY)
    sim.crash(relay)
    health = sim.health_many(sim.describe(code))
    assert not health[relay.request_key].ok
    assert sum("upstream is down" in h.reason for h in health.values()) == 2
    # Rewired around the crashed relay, the edges are fed by the origin again.
    result = sim.wire(default_cascade(code, sim.describe(code)))
    assert result.removed == 3 and result.added == 2
    edges = [n for n in sim.describe(code) if n.role == Role.EDGE]
    assert all(h.ok for h in sim.health_many(edges).values())


def test_teardown_leaves_nothing_and_the_registry_finds_the_provider(make, code, settings):
    sim = make(failure_rate=0, **FAST)
    sim.create_nodes(specs(code, "us-east", Role.EDGE, 3))
    assert {r.kind for r in sim.list_resources(code)} == {"instance", "quota-usage"}
    sim.teardown(code)
    assert sim.list_resources(code) == []
    settings.RELAY_PROVIDER = "simulated"
    assert isinstance(get_provider(), SimulatedProvider)
