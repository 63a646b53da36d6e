"""The join path over HTTP: /j/<token>/ (page), /seat and /heartbeat. No SQL, no session,
no cookie; forged, withdrawn and out-of-hours links refused with a clear answer, never a
5xx; the per-address rate limit."""

import json
import time

import pytest
from django.core import signing
from django.urls import reverse

from events.ratelimit import TokenBucket
from events.services import admission
from events.tokens import join_token, read_viewer_token, revoked_key
from tests.events.admission_helpers import publish, seats


@pytest.fixture(autouse=True)
def _fresh_bucket(settings):
    settings.ATTENDEE_RATE_PER_IP = 1000.0
    settings.ATTENDEE_BURST_PER_IP = 1000
    bucket = TokenBucket("join:127.0.0.1", rate=1, burst=1)
    bucket.reset()
    yield
    bucket.reset()


def open_now(code: str, **kwargs) -> None:
    now = time.time()
    publish(code, opens=now - 60, ends=now + 3600, **kwargs)


def seat(client, token: str, session: str | None = None, **extra):
    body = json.dumps({"session": session} if session else {})
    return client.post(
        reverse("events:join_seat", args=[token]), body, content_type="application/json", **extra
    )


def beat(client, token: str, session: str):
    body = json.dumps({"session": session})
    return client.post(
        reverse("events:join_heartbeat", args=[token]), body, content_type="application/json"
    )


def assert_no_session(response) -> None:
    assert not response.cookies, response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_the_join_path_runs_no_sql_and_sets_no_cookie(db, client, code, django_assert_num_queries):
    open_now(code)
    token = join_token(code, 5, "us-east")
    with django_assert_num_queries(0):
        page = client.get(reverse("events:join", args=[token]))
        first = seat(client, token)
        session = first.json()["session"]
        again = seat(client, token, session)
        heartbeat = beat(client, token, session)
    assert page.status_code == 200 and "Finding you a seat" in page.content.decode()
    assert first.status_code == 200 and first.json()["status"] == "admitted"
    assert again.json()["status"] == "rejoined" and heartbeat.json()["status"] == "ok"
    for response in (page, first, again, heartbeat):
        assert_no_session(response)
    assert seats(code) == 1


def test_an_admitted_viewer_gets_the_edge_and_a_short_lived_viewer_token(db, client, code):
    open_now(code, edges=[("e1", "us-east", "edge-1.example:8088")])
    body = seat(client, join_token(code, 5, "us-east")).json()
    assert (body["edge"], body["endpoint"]) == ("e1", "edge-1.example:8088")
    viewer = read_viewer_token(body["viewer_token"], max_age=body["viewer_token_ttl_s"])
    assert (viewer.webinar_code, viewer.registrant_id, viewer.edge) == (code, 5, "e1")
    assert read_viewer_token(body["viewer_token"], max_age=-1) is None  # expired
    assert read_viewer_token(join_token(code, 5, "us-east"), max_age=60) is None


def test_a_second_device_takes_over_and_the_first_is_told(db, client, code):
    open_now(code)
    token = join_token(code, 5, "us-east")
    phone = seat(client, token).json()["session"]
    laptop = seat(client, token).json()
    assert laptop["status"] == "taken_over"
    told = beat(client, token, phone)
    assert told.status_code == 409 and told.json()["status"] == "taken_over"
    assert "another device" in told.json()["detail"]
    assert beat(client, token, laptop["session"]).status_code == 200
    assert seats(code) == 1


def test_a_full_webinar_answers_the_waiting_room(db, client, code):
    open_now(code, capacity=1)
    assert seat(client, join_token(code, 1, "us-east")).json()["status"] == "admitted"
    waiting = seat(client, join_token(code, 2, "us-east"))
    assert waiting.status_code == 200
    assert waiting.json()["status"] == "waiting" and waiting.json()["reason"] == "full"
    assert "full" in waiting.json()["detail"]
    assert seats(code) == 1


def forged_tokens(code: str) -> list[str]:
    good = join_token(code, 5, "us-east")
    payload, signature = good.rsplit(":", 1)
    other_id = join_token(code, 6, "us-east").rsplit(":", 1)[0]
    return [
        f"{payload}:{signature[:-2]}xx",  # tampered signature
        f"{other_id}:{signature}",  # someone else's id under this signature
        signing.dumps([code, 5, "us-east"]),  # signed, but not as a join link
        "not-a-token",
        "x" * 400,
    ]


def test_forged_links_are_refused_with_a_clear_page_and_change_nothing(db, client, code):
    open_now(code)
    for token in forged_tokens(code):
        page = client.get(reverse("events:join", args=[token]))
        assert page.status_code == 404, token
        assert "This join link is not valid" in page.content.decode()
        answer = seat(client, token)
        assert answer.status_code == 404 and answer.json()["status"] == "invalid"
        assert beat(client, token, "abcdefgh12345").status_code == 404
    assert seats(code) == 0


def test_a_link_to_a_webinar_not_published_is_invalid(db, client, code):
    token = join_token(code, 5, "us-east")
    assert client.get(reverse("events:join", args=[token])).status_code == 404
    assert seat(client, token).status_code == 404


def test_a_withdrawn_link_is_refused(db, client, code):
    open_now(code)
    admission.admission_redis().sadd(revoked_key(code), 5)
    token = join_token(code, 5, "us-east")
    page = client.get(reverse("events:join", args=[token]))
    assert page.status_code == 403 and "withdrawn" in page.content.decode()
    assert seat(client, token).status_code == 403
    assert seats(code) == 0


def test_before_the_doors_open_the_page_says_when(db, client, code):
    now = time.time()
    publish(code, opens=now + 3600, ends=now + 7200)
    token = join_token(code, 5, "us-east")
    page = client.get(reverse("events:join", args=[token])).content.decode()
    assert "Doors open at" in page
    assert " IST" in page or " GMT" in page  # in the webinar's zone (Europe/Dublin)
    answer = seat(client, token)
    assert answer.status_code == 409 and answer.json()["status"] == "early"


def test_after_the_end_the_link_has_expired(db, client, code):
    now = time.time()
    publish(code, opens=now - 7200, ends=now - 60)
    token = join_token(code, 5, "us-east")
    page = client.get(reverse("events:join", args=[token]))
    assert page.status_code == 410 and "has ended" in page.content.decode()
    assert seat(client, token).status_code == 410


@pytest.mark.parametrize("body", ["{not json", '{"session": 12}', '{"session": "a b"}', "[]"])
def test_a_malformed_body_is_a_400_and_changes_nothing(db, client, code, body):
    open_now(code)
    token = join_token(code, 5, "us-east")
    for name in ("events:join_seat", "events:join_heartbeat"):
        response = client.post(reverse(name, args=[token]), body, content_type="application/json")
        if body == "[]" and name == "events:join_seat":
            continue  # no session given: a fresh join, tested elsewhere
        assert response.status_code == 400 and response.json()["status"] == "bad_request"
    assert seats(code) == (1 if body == "[]" else 0)


def test_a_heartbeat_needs_its_session(db, client, code):
    open_now(code)
    token = join_token(code, 5, "us-east")
    response = client.post(reverse("events:join_heartbeat", args=[token]), "{}", "application/json")
    assert response.status_code == 400
    released = beat(client, token, "abcdefgh12345")  # never seated
    assert released.status_code == 409 and released.json()["status"] == "released"


def test_too_many_requests_from_one_address_get_a_429(db, client, code, settings):
    settings.ATTENDEE_RATE_PER_IP = 0.001
    settings.ATTENDEE_BURST_PER_IP = 2
    open_now(code)
    token = join_token(code, 5, "us-east")
    first = seat(client, token)
    assert first.status_code == 200
    assert seat(client, token, first.json()["session"]).status_code == 200  # a refresh
    limited = seat(client, join_token(code, 6, "us-east"))
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert limited.json()["status"] == "busy"
    assert seats(code) == 1  # registrant 6 was not admitted
    # Heartbeats are not counted: viewers behind one NAT keep their seats.
    assert beat(client, token, first.json()["session"]).status_code == 200
    # The page has the same budget (its own bucket: it makes no seat call).
    assert client.get(reverse("events:join", args=[token])).status_code == 200
    assert client.get(reverse("events:join", args=[token])).status_code == 200
    page = client.get(reverse("events:join", args=[token]))
    assert page.status_code == 429 and "Too many requests" in page.content.decode()


def test_the_geo_header_routes_the_viewer(db, client, code, settings):
    settings.ATTENDEE_GEO_HEADER = "X-Viewer-Region"
    routes = {"us-east": ["us-east", "eu-west"], "eu-west": ["eu-west", "us-east"]}
    routes["*"] = routes["us-east"]
    open_now(code, edges=[("us", "us-east", "u"), ("eu", "eu-west", "e")], routes=routes)
    token = join_token(code, 5, "us-east")
    assert seat(client, token, HTTP_X_VIEWER_REGION="eu-west").json()["edge"] == "eu"
    assert seat(client, join_token(code, 6, "us-east")).json()["edge"] == "us"
