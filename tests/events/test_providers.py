"""The provider interface itself: the registry chosen by settings (and its default), the
standard cascade, and the local provider's documented scale-down."""

import os
import subprocess
import sys
import types

import pytest
from django.core.exceptions import ImproperlyConfigured

from events.providers import base
from events.providers.base import (
    Node,
    NodeState,
    RelayProvider,
    Role,
    default_cascade,
    get_provider,
    plan_groups,
    register,
)
from events.providers.janus import JanusProvider, local_scale
from webinars.sizing import size_cluster

REGIONS = [
    "us-east",
    "us-west",
    "sa-east",
    "eu-west",
    "eu-central",
    "ap-south",
    "ap-southeast",
    "ap-northeast",
]


def node(key, region, role, state=NodeState.RUNNING):
    return Node(key, "W-TEST", region, role, state)


def test_settings_choose_the_provider_and_unknown_names_are_refused(settings):
    settings.RELAY_PROVIDER = "simulated"
    assert get_provider().name == "simulated"
    assert get_provider("aws").name == "aws"
    for bad in ("nope", "../janus", "Janus"):
        with pytest.raises(ImproperlyConfigured):
            get_provider(bad)


def test_the_choice_is_logged_once_per_process(settings, monkeypatch, caplog):
    monkeypatch.setattr(base, "_announced", False)
    settings.RELAY_PROVIDER, settings.RELAY_PROVIDER_SOURCE = "simulated", "set by RELAY_PROVIDER"
    with caplog.at_level("INFO", logger="events.providers.base"):
        get_provider()
        get_provider()
    assert [r.getMessage() for r in caplog.records] == [
        "relay provider: simulated (set by RELAY_PROVIDER)"
    ]


def test_adding_a_provider_is_adding_one_module(monkeypatch, settings):
    module = types.ModuleType("events.providers.testonly")

    def load():  # what the module's own source does when imported
        @register("testonly")
        class TestOnly(RelayProvider):
            create_nodes = describe = health = wire = drain = terminate = None
            teardown = list_resources = None

    module.__dict__["load"] = load
    monkeypatch.setitem(sys.modules, "events.providers.testonly", module)
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    with pytest.raises(ImproperlyConfigured, match="registers no provider"):
        get_provider("testonly")
    load()
    settings.RELAY_PROVIDER = "testonly"
    assert type(get_provider()).__name__ == "TestOnly"


@pytest.mark.parametrize(
    ("binary", "expected"), [("/bin/sh", "janus"), ("/nonexistent/janus", "simulated")]
)
def test_the_default_is_janus_when_installed_else_the_simulation(binary, expected):
    env = {k: v for k, v in os.environ.items() if k != "RELAY_PROVIDER"}
    env |= {"RELAY_JANUS_BINARY": binary, "DJANGO_SETTINGS_MODULE": "config.settings"}
    code = "from django.conf import settings as s\n"
    code += "print(s.RELAY_PROVIDER, '|', s.RELAY_PROVIDER_SOURCE)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    name, source = (part.strip() for part in out.split("|"))
    assert name == expected
    assert ("not installed" in source) == (expected == "simulated")


def test_the_default_cascade_is_origin_relays_edges_and_routes_around_failures():
    nodes = [
        node("o1", "us-east", Role.ORIGIN),
        node("o2", "us-east", Role.ORIGIN),
        node("r-us-1", "us-east", Role.RELAY),
        node("r-eu-1", "eu-west", Role.RELAY),
        node("r-eu-2", "eu-west", Role.RELAY),
        node("e-eu-1", "eu-west", Role.EDGE),
        node("e-eu-2", "eu-west", Role.EDGE),
        node("e-eu-3", "eu-west", Role.EDGE),
        node("e-us-1", "us-east", Role.EDGE),
        node("e-ap-1", "ap-south", Role.EDGE),  # a region without relays
        node("s-eu-1", "eu-west", Role.SPARE),
        node("e-eu-4", "eu-west", Role.EDGE, NodeState.PENDING),
    ]
    tree = default_cascade("W-TEST", nodes).parents
    assert tree == {
        "o1": None,
        "o2": None,
        "r-us-1": "o1",
        "r-eu-1": "o1",
        "r-eu-2": "o1",
        "e-eu-1": "r-eu-1",
        "e-eu-2": "r-eu-2",
        "e-eu-3": "r-eu-1",
        "e-us-1": "r-us-1",
        "e-ap-1": "o1",
    }
    failed = [
        n
        if n.request_key not in ("o1", "r-eu-1")
        else node(n.request_key, n.region, n.role, NodeState.FAILED)
        for n in nodes
    ]
    tree = default_cascade("W-TEST", failed).parents
    assert tree["r-eu-2"] == "o2" and tree["e-eu-1"] == tree["e-eu-3"] == "r-eu-2"
    assert "o1" not in tree and "r-eu-1" not in tree


def test_a_1m_plan_is_scaled_down_for_the_local_provider_and_small_plans_are_not(settings):
    plan = size_cluster(1_000_000, {r: 1250 for r in REGIONS})
    assert plan.total_nodes == 1074
    scaled = JanusProvider().scale(plan)
    assert scaled.planned_nodes == 1074
    assert 8 * 4 <= scaled.actual_nodes <= settings.RELAY_JANUS_MAX_PROCESSES
    assert {(g.region, g.role) for g in scaled.groups} == {
        (r, role) for r, role, _n in plan_groups(plan)
    }
    assert all(g.actual >= 1 for g in scaled.groups)
    assert scaled.factor == 50 and "1,074 planned nodes run as" in scaled.note
    assert scaled.actual("us-east", Role.EDGE) == 3  # 120 planned edges / 50, rounded up

    small = JanusProvider().scale(size_cluster(10_000, {"us-east": 10000}).as_dict())
    assert (small.factor, small.note, small.actual_nodes) == (1, "", 13)

    tight = local_scale(plan, nodes_per_process=50, max_processes=33)
    assert tight.actual_nodes <= 33 and tight.factor > 50
