"""The janus provider on real Janus processes: media flows studio -> origin -> relay ->
edges, a killed relay is detected and repaired, processes are found again by a new
worker, creation is idempotent, and ports never collide."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from events.models import JanusProcess, PortLease
from events.providers import janus_proc
from events.providers.base import Cascade, NodeSpec, NodeState, Role, default_cascade
from events.providers.janus import JanusProvider

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def specs(code, layout):
    """layout: [(region, role, count)] -> NodeSpecs with readable keys."""
    out = []
    for region, role, count in layout:
        out += [NodeSpec(code, region, role, f"{code}/{region}/{role}/{i}") for i in range(count)]
    return out


CLUSTER = [
    ("us-east", Role.ORIGIN, 1),
    ("us-east", Role.RELAY, 1),
    ("eu-west", Role.RELAY, 1),
    ("us-east", Role.EDGE, 2),
    ("eu-west", Role.EDGE, 2),
]


def wait_for(predicate, timeout=20.0):
    """Poll until `predicate()` is truthy; returns its last value (tests assert on it)."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(0.3)
        value = predicate()
    return value


def edges_fresh(provider, code):
    edges = [n for n in provider.describe(code) if n.role == Role.EDGE]
    health = provider.health_many(edges)
    return health if all(h.ok and h.media_age_ms is not None for h in health.values()) else None


def bring_up(provider, code):
    nodes = provider.create_nodes(specs(code, CLUSTER))
    assert [n.state for n in nodes] == [NodeState.RUNNING] * len(nodes), [n.reason for n in nodes]
    provider.wire(default_cascade(code, provider.describe(code)))
    return nodes


def test_media_flows_from_the_studio_through_origin_and_relays_to_every_edge(janus, code):
    bring_up(janus, code)
    health = wait_for(lambda: edges_fresh(janus, code))
    assert health, janus.health_many(janus.describe(code))
    assert len(health) == 4
    assert all(h.media_age_ms <= 1000 for h in health.values())
    # The whole tree is healthy, origins and relays included.
    assert all(h.ok for h in janus.health_many(janus.describe(code)).values())

    # Negative control: the same tree without the studio feed goes stale at every edge.
    tree = default_cascade(code, janus.describe(code))
    janus.wire(Cascade(code, {k: p for k, p in tree.parents.items() if p is not None}))
    edges = [n for n in janus.describe(code) if n.role == Role.EDGE]
    stale = wait_for(lambda: all(not h.ok for h in janus.health_many(edges).values()))
    assert stale
    assert all("media stale" in h.reason for h in janus.health_many(edges).values())


def test_a_killed_relay_is_detected_and_repaired_by_a_new_node(janus, code):
    bring_up(janus, code)
    assert wait_for(lambda: edges_fresh(janus, code))
    relay = next(n for n in janus.describe(code) if n.role == Role.RELAY and n.region == "eu-west")
    os.kill(int(relay.detail["pid"]), signal.SIGKILL)

    assert not janus.health(relay).ok
    eu_edges = [n for n in janus.describe(code) if n.role == Role.EDGE and n.region == "eu-west"]
    stale = wait_for(lambda: all(not h.ok for h in janus.health_many(eu_edges).values()))
    assert stale, "the relay's edges still report fresh media"
    assert {n.request_key: n.state for n in janus.describe(code)}[relay.request_key] == "failed"

    janus.terminate(relay)
    [replacement] = janus.create_nodes(
        [NodeSpec(code, "eu-west", Role.RELAY, relay.request_key + "#2")]
    )
    assert replacement.state == NodeState.RUNNING
    result = janus.wire(default_cascade(code, janus.describe(code)))
    assert result.added >= 3 and result.unreachable == ()  # origin -> new relay -> 2 edges
    assert wait_for(lambda: edges_fresh(janus, code))
    assert not PortLease.objects.filter(process__request_key=relay.request_key).exists()


def test_a_new_worker_process_finds_the_nodes_and_can_stop_them(janus, code):
    bring_up(janus, code)
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}"
    env = dict(os.environ, DATABASE_URL=f"{url}/{db['NAME']}", RELAY_DATA_DIR=str(janus.data_dir))
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\n"
        "django.setup()\n"
        "from events.providers.janus import JanusProvider\n"
        f"p = JanusProvider(); nodes = p.describe({code!r})\n"
        "print(sorted({str(n.state) for n in nodes}), len(nodes))\n"
        f"p.teardown({code!r}); print(p.list_resources({code!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["['running'] 7", "[]"]
    assert janus_proc.find_processes(f"{janus.data_dir / code}/") == []


def test_create_is_idempotent_per_request_key_even_when_raced(janus, code):
    wanted = specs(code, [("us-east", Role.ORIGIN, 1), ("us-east", Role.EDGE, 3)])
    results = []

    def create(own):  # the same four nodes, plus two of the thread's own
        try:
            results.append(janus.create_nodes(wanted))
            janus.create_nodes(specs(code, [(own, Role.EDGE, 2)]))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=create, args=(r,)) for r in ("eu-west", "ap-south", "sa-east")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.append(janus.create_nodes(wanted))  # a retry after the fact
    assert len(results) == 4
    pids = {tuple(n.provider_id for n in nodes) for nodes in results}
    assert len(pids) == 1, pids  # every call saw the same four processes
    assert JanusProcess.objects.filter(webinar_code=code).count() == 10
    assert PortLease.objects.filter(process__webinar_code=code).count() == 10
    assert len(janus_proc.find_processes(f"{janus.data_dir / code}/")) == 10
    ports = [p for n in janus.describe(code) for k, p in n.detail.items() if k.endswith("_port")]
    assert len(ports) == len(set(ports)) == 40  # raced for, never shared

    # A terminated key stays spent: asking again does not start it.
    janus.terminate(results[0][1])
    again = janus.create_nodes([wanted[1]])
    assert again[0].state == NodeState.TERMINATED
    assert len(janus_proc.find_processes(f"{janus.data_dir / code}/")) == 9


def test_ports_never_collide_and_are_not_reused_while_a_process_lives(janus, code, settings):
    settings.RELAY_JANUS_PORTS = "23000-23049"  # five blocks of ten
    janus = JanusProvider()  # reads the narrower range
    busy = socket.socket()  # another program holds a port of the first block
    busy.bind(("127.0.0.1", 23000))
    busy.listen()
    try:
        nodes = janus.create_nodes(specs(code, [("us-east", Role.EDGE, 4)]))
        assert [n.state for n in nodes] == [NodeState.RUNNING] * 4
        ports = [n.detail["http_port"] for n in nodes]
        assert 23000 not in ports and len(set(ports)) == 4
        [extra] = janus.create_nodes([NodeSpec(code, "us-east", Role.EDGE, f"{code}/extra")])
        assert extra.state == NodeState.FAILED and "no free block" in extra.reason

        janus.terminate(nodes[0])  # its block is free again only once it has stopped
        [late] = janus.create_nodes([NodeSpec(code, "us-east", Role.EDGE, f"{code}/late")])
        assert late.state == NodeState.RUNNING
        assert late.detail["http_port"] == nodes[0].detail["http_port"]
        live = [n.detail["http_port"] for n in janus.describe(code) if n.state == "running"]
        assert len(live) == len(set(live)) == 4
    finally:
        busy.close()
