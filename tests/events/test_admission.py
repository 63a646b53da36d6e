"""Admission in Redis (events.services.admission), against the suite's real Redis: the cap
under concurrent joins, re-joins, takeovers, heartbeats, expiry, the waiting room,
revocation and routing. The scripts take the clock as an argument, so time is simulated."""

import threading
from collections import Counter

import pytest

from events.selectors.attendance import live_figures
from events.services import admission
from events.tokens import revoked_key
from tests.events.admission_helpers import T0, claim, loads, publish, seats


def test_concurrent_joins_never_take_more_seats_than_the_capacity(code):
    publish(code, capacity=50, edges=[("e1", "us-east", "a"), ("e2", "us-east", "b")])
    barrier = threading.Barrier(40)
    outcomes: list[str] = []
    lock = threading.Lock()

    def viewer(i: int) -> None:
        barrier.wait()
        for n in range(5):  # 200 distinct registrants in all
            answer = admission.take_seat(claim(code, i * 5 + n), now=T0)
            with lock:
                outcomes.append(answer.status)

    threads = [threading.Thread(target=viewer, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(outcomes) == {"admitted": 50, "full": 150}
    assert seats(code) == 50
    assert sum(loads(code).values()) == 50
    assert live_figures(code)["peak"] == 50


def test_the_same_session_joining_again_keeps_its_seat_and_edge(code):
    publish(code, edges=[("e1", "us-east", "a"), ("e2", "us-east", "b")])
    first = admission.take_seat(claim(code, 1), now=T0)
    again = admission.take_seat(claim(code, 1), session=first.session, now=T0 + 5)
    assert (first.status, again.status) == ("admitted", "rejoined")
    assert again.edge == first.edge and again.session == first.session
    assert seats(code) == 1 and sum(loads(code).values()) == 1


def test_a_second_device_takes_the_seat_over_and_the_first_is_told(code):
    publish(code, capacity=1)
    phone = admission.take_seat(claim(code, 1), now=T0)
    laptop = admission.take_seat(claim(code, 1), now=T0 + 10)  # same link, new session
    assert laptop.status == "taken_over" and laptop.session != phone.session
    assert laptop.edge == phone.edge
    assert seats(code) == 1  # the cap of 1 was not in the way: it is the same seat
    assert admission.refresh_seat(claim(code, 1), session=phone.session, now=T0 + 20).status == (
        "taken_over"
    )
    assert admission.refresh_seat(claim(code, 1), session=laptop.session, now=T0 + 20).status == (
        "ok"
    )
    assert seats(code) == 1


def test_a_seat_without_heartbeat_for_90_s_is_released(code):
    publish(code, edges=[("e1", "us-east", "a")])
    kept = admission.take_seat(claim(code, 1), now=T0)
    lost = admission.take_seat(claim(code, 2), now=T0)
    assert admission.refresh_seat(claim(code, 1), session=kept.session, now=T0 + 60).status == "ok"
    assert admission.sweep_seats(code, now=T0 + 89) == 0
    assert admission.sweep_seats(code, now=T0 + 91) == 1  # registrant 2 went silent
    assert seats(code) == 1 and loads(code) == {"e1": 1}
    assert admission.refresh_seat(claim(code, 2), session=lost.session, now=T0 + 95).status == (
        "released"
    )
    # A heartbeat arriving after the TTL, before any sweep, gets the same answer.
    assert admission.refresh_seat(claim(code, 1), session=kept.session, now=T0 + 200).status == (
        "released"
    )
    assert seats(code) == 0 and loads(code) == {"e1": 0}


def test_the_waiting_room_is_let_in_when_a_seat_frees(code):
    publish(code, capacity=1)
    admission.take_seat(claim(code, 1), now=T0)
    waiting = admission.take_seat(claim(code, 2), now=T0 + 30)
    assert waiting.status == "full" and not waiting.seated
    assert admission.take_seat(claim(code, 2), session=waiting.session, now=T0 + 60).status == (
        "full"
    )
    # Registrant 1 closed the tab: no heartbeat; the join itself sweeps the stale seat.
    later = admission.take_seat(claim(code, 2), session=waiting.session, now=T0 + 91)
    assert later.status == "admitted" and seats(code) == 1


def test_a_revoked_link_is_refused_and_loses_its_seat(code):
    publish(code)
    seated = admission.take_seat(claim(code, 7), now=T0)
    admission.admission_redis().sadd(revoked_key(code), 7)
    assert admission.refresh_seat(claim(code, 7), session=seated.session, now=T0 + 30).status == (
        "revoked"
    )
    assert admission.take_seat(claim(code, 7), now=T0 + 31).status == "revoked"
    assert seats(code) == 0 and loads(code) == {"e1": 0}


@pytest.mark.parametrize(
    ("moment", "status"), [(T0 - 61, "early"), (T0 + 3600, "ended"), (T0 + 7200, "ended")]
)
def test_no_seat_before_the_doors_open_or_after_the_end(code, moment, status):
    publish(code)
    assert admission.take_seat(claim(code, 1), now=moment).status == status
    assert seats(code) == 0


def test_an_unpublished_webinar_admits_no_one(code):
    assert admission.take_seat(claim(code, 1), now=T0).status == "closed"


def test_a_webinar_without_serving_edges_keeps_joiners_waiting(code):
    publish(code, edges=[])
    assert admission.take_seat(claim(code, 1), now=T0).status == "preparing"
    assert seats(code) == 0


EU_FIRST = {
    "eu-west": ["eu-west", "eu-central", "us-east"],
    "us-east": ["us-east", "eu-west", "eu-central"],
    "*": ["us-east", "eu-west", "eu-central"],
}
EDGES = [
    ("eu-w-1", "eu-west", "eu1"),
    ("eu-w-2", "eu-west", "eu2"),
    ("eu-c-1", "eu-central", "euc1"),
    ("us-e-1", "us-east", "us1"),
]


def test_routing_prefers_the_least_loaded_edge_of_the_registrants_region(code):
    publish(code, edges=EDGES, routes=EU_FIRST)
    edges = [admission.take_seat(claim(code, i, "eu-west"), now=T0).edge for i in range(4)]
    assert sorted(edges) == ["eu-w-1", "eu-w-1", "eu-w-2", "eu-w-2"]
    assert admission.take_seat(claim(code, 9, "us-east"), now=T0).endpoint == "us1"
    # An unknown region goes to the biggest region first.
    assert admission.take_seat(claim(code, 10, "mars"), now=T0).edge == "us-e-1"


def test_routing_falls_back_to_the_nearest_region_with_room(code):
    publish(code, edges=EDGES, routes=EU_FIRST, edge_max=1)
    edges = [admission.take_seat(claim(code, i, "eu-west"), now=T0).edge for i in range(4)]
    assert edges[:2] in (["eu-w-1", "eu-w-2"], ["eu-w-2", "eu-w-1"])
    assert edges[2:] == ["eu-c-1", "us-e-1"]  # eu-central is nearer than us-east
    # Every edge at its nominal load: the least loaded anywhere (the seat cap still holds).
    assert admission.take_seat(claim(code, 5, "eu-west"), now=T0).status == "admitted"
    assert seats(code) == 5


def test_the_geo_header_region_overrides_the_registration_region(code):
    publish(code, edges=EDGES, routes=EU_FIRST)
    seated = admission.take_seat(claim(code, 1, "eu-west"), route_region="us-east", now=T0)
    assert seated.edge == "us-e-1"


def test_a_seat_on_an_edge_that_left_service_moves_on_its_next_join(code):
    publish(code, edges=EDGES[:2], routes=EU_FIRST)
    first = admission.take_seat(claim(code, 1, "eu-west"), now=T0)
    others = [e for e in EDGES[:2] if e[0] != first.edge]
    publish(code, edges=others, routes=EU_FIRST)  # its edge was replaced
    again = admission.take_seat(claim(code, 1, "eu-west"), session=first.session, now=T0 + 5)
    assert again.status == "rejoined" and again.edge == others[0][0]
    assert loads(code) == {first.edge: 0, others[0][0]: 1}


def test_watched_time_and_the_concurrency_series_are_counted(code):
    publish(code)
    a = admission.take_seat(claim(code, 1), now=T0)
    admission.take_seat(claim(code, 2), now=T0 + 1)
    admission.refresh_seat(claim(code, 1), session=a.session, now=T0 + 30)
    admission.refresh_seat(claim(code, 1), session=a.session, now=T0 + 60)
    client = admission.admission_redis()
    assert client.hget(admission.key(code, "watch"), "us-east") == b"60000"
    assert client.hget(admission.key(code, "attreg"), "us-east") == b"2"
    series = live_figures(code)["series"]
    # One point per minute with a change (the heartbeat at T0 + 60 s is the next minute),
    # each the highest concurrency of its minute; the peak is the highest of them.
    assert series == [(int(T0 // 60) * 60, 2), (int((T0 + 60) // 60) * 60, 2)]
    assert live_figures(code)["peak"] == 2
    # Every key of the webinar carries its hash tag (one Redis Cluster slot).
    assert all(k.decode().startswith("{" + code + "}") for k in client.keys(f"*{code}*"))


def test_a_republished_route_table_replaces_the_old_one(code):
    edges = [("e1", "us-east", "a"), ("e2", "eu-west", "b")]
    publish(code, edges=edges, routes={"*": ["us-east", "eu-west"], "eu-west": ["eu-west"]})
    assert admission.take_seat(claim(code, 1, region="eu-west"), now=T0).edge == "e2"
    # eu-west's own route is withdrawn: its viewers now follow the route for everyone.
    publish(code, edges=edges, routes={"*": ["us-east", "eu-west"]})
    assert admission.take_seat(claim(code, 2, region="eu-west"), now=T0).edge == "e1"
    fields = admission.admission_redis().hkeys(admission.key(code, "cfg"))
    assert sorted(f for f in fields if f.startswith(b"route:")) == [b"route:*"]
