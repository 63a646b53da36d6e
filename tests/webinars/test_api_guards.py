"""What an attacker or a careless client sends the API (and the booking pages): wrong
credentials, floods, dates at the ends of the calendar, deeply nested JSON and NUL
characters. Each gets a clear 4xx, never a 5xx, and nothing is written."""

import base64
import json

import pytest
import redis
from django.conf import settings as django_settings
from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import local_start
from webinars.models import AuditEntry, FleetSlot, Webinar


def _payload(**extra):
    return {
        "title": "API webinar",
        "package": "10k",
        "start": local_start(days=30).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "America/New_York",
        "duration_minutes": 90,
        "audience": "north-america",
    } | extra


def _basic(email: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def _nothing_written() -> bool:
    return not (
        Webinar.objects.exists()
        or FleetSlot.objects.exists()
        or AuditEntry.objects.filter(action="webinar.held").exists()
    )


# --- 401 with WWW-Authenticate ---------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        _basic("alice@acme.example", "wrong-password"),
        _basic("nobody@acme.example", "correct-horse-battery"),
        _basic("alice@acme.example\x00", "correct-horse-battery"),
        "Basic not-base64!",
    ],
    ids=["none", "wrong-password", "unknown-user", "nul-in-user", "garbled"],
)
def test_missing_or_wrong_credentials_answer_401_with_www_authenticate(
    organiser, catalogue, authorization
):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = client.post(reverse("api-webinars"), _payload(), format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Mega Webinars API"'
    assert set(response.json()) == {"code", "detail"}
    assert _nothing_written()


def test_the_right_credentials_book(organiser, catalogue):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic("alice@acme.example", "correct-horse-battery"))
    assert client.post(reverse("api-webinars"), _payload(), format="json").status_code == 201


# --- Throttling ------------------------------------------------------------------------------


@pytest.fixture
def tight_rates(settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"anon": "5/minute", "anon_quote": "2/minute", "user": "4/minute"}
    }


def test_the_anonymous_quote_has_its_own_tighter_budget(catalogue, tight_rates):
    client = APIClient()
    quote = reverse("api-quote")
    assert [client.post(quote, _payload(), format="json").status_code for _ in range(2)] == [
        200,
        200,
    ]
    throttled = client.post(quote, _payload(), format="json")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60
    # The catalogue is still there for the same anonymous client, up to the anon budget.
    assert client.get(reverse("api-packages")).status_code == 200
    assert client.get(reverse("api-packages")).status_code == 429


def test_signed_in_clients_have_a_per_user_budget_shared_by_every_worker(
    organiser, outsider, catalogue, tight_rates
):
    client = APIClient()
    client.force_authenticate(organiser)
    quote = reverse("api-quote")
    # The anonymous quote budget does not apply to an organiser; the user budget does.
    statuses = [client.post(quote, _payload(), format="json").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    other = APIClient()
    other.force_authenticate(outsider)
    assert other.get(reverse("api-webinars")).status_code == 200
    # The counters are in Redis, not in this process: every web worker sees the same budget.
    cache = django_settings.CACHES["api-throttle"]
    counters = redis.Redis.from_url(cache["LOCATION"])
    try:
        assert any(b"throttle_user_" in key for key in counters.scan_iter("api-throttle:*"))
    finally:
        counters.close()


def test_an_outage_of_the_throttle_counters_does_not_take_the_api_down(
    organiser, catalogue, settings, caplog
):
    settings.CACHES = settings.CACHES | {
        "api-throttle": settings.CACHES["api-throttle"] | {"LOCATION": "redis://127.0.0.1:1/0"}
    }
    client = APIClient()
    client.force_authenticate(organiser)
    assert client.post(reverse("api-quote"), _payload(), format="json").status_code == 200
    assert "API throttle cache unavailable" in caplog.text


# --- Dates at the ends of the calendar -------------------------------------------------------

EDGES = [
    ("0001-01-01T00:00", "Asia/Tokyo", "in the past"),
    ("0001-01-01T00:00", "America/New_York", "in the past"),
    ("9999-12-31T23:59", "America/New_York", "at most 365 days ahead"),
    ("9999-12-31T23:59", "Asia/Tokyo", "at most 365 days ahead"),
]


@pytest.mark.parametrize(("start", "tz", "message"), EDGES)
def test_starts_at_the_ends_of_the_calendar_are_a_clear_400_on_the_api(
    organiser, catalogue, start, tz, message
):
    client = APIClient()
    client.force_authenticate(organiser)
    for url in (reverse("api-quote"), reverse("api-webinars")):
        response = client.post(url, _payload(start=start, timezone=tz), format="json")
        assert response.status_code == 400, response.content
        assert message in response.json()["detail"]
    assert _nothing_written()


@pytest.mark.parametrize(
    "start", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:00-12:00", "9999-12-31T23:59Z"]
)
def test_instants_at_the_ends_of_the_calendar_are_a_clear_400_on_the_api(
    organiser, catalogue, start
):
    client = APIClient()
    client.force_authenticate(organiser)
    response = client.post(reverse("api-webinars"), _payload(start=start), format="json")
    assert response.status_code == 400
    assert response.json()["code"] in ("start_in_past", "beyond_horizon")
    assert _nothing_written()


@pytest.mark.parametrize(("start", "tz", "message"), EDGES)
def test_starts_at_the_ends_of_the_calendar_are_a_clear_400_on_the_pages(
    client, organiser, catalogue, start, tz, message
):
    client.force_login(organiser)
    form = {k: str(v) for k, v in _payload(start=start, timezone=tz).items()}
    for url in (reverse("webinars:book"), reverse("webinars:quote")):
        response = client.post(url, form)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert _nothing_written()


# --- Deeply nested JSON ----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 100_000])
@pytest.mark.parametrize("url_name", ["api-quote", "api-webinars"])
def test_deeply_nested_json_is_a_400_on_every_endpoint_that_reads_a_body(
    organiser, catalogue, url_name, depth
):
    client = APIClient()
    client.force_authenticate(organiser)
    lists = "[" * depth + "]" * depth
    objects = '{"split": ' + '{"a": ' * depth + "1" + "}" * (depth + 1)
    for body in (lists, objects):
        response = client.post(reverse(url_name), body, content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {
            "code": "parse_error",
            "detail": "JSON parse error - nested deeper than 32 levels.",
        }
    assert _nothing_written()


def test_a_body_over_the_upload_limit_is_a_400(organiser, catalogue, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = APIClient()
    client.force_authenticate(organiser)
    response = client.post(reverse("api-webinars"), _payload(title="x" * 2000), format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "JSON parse error - body over 1000 bytes."
    assert _nothing_written()


def test_a_body_that_is_not_json_is_a_415(organiser, catalogue):
    client = APIClient()
    client.force_authenticate(organiser)
    response = client.post(reverse("api-webinars"), "title=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# --- NUL characters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Launch\x00"},
        {"package": "10k\x00"},
        {"timezone": "Europe/Paris\x00"},
        {"audience": "custom", "split": {"us-east\x00": "100"}},
        {"audience": "custom", "split": {"us-east": "10\x000"}},
        {"start": "2027-01-15T15:00\x00"},
        {"title": "\ud800"},
    ],
    ids=["title", "package", "timezone", "split-key", "split-value", "start", "surrogate"],
)
def test_nul_characters_in_api_input_are_a_400(organiser, catalogue, change):
    client = APIClient()
    client.force_authenticate(organiser)
    body = json.dumps(_payload(**change))  # \u escapes, as a client would send them
    for url in (reverse("api-quote"), reverse("api-webinars")):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, response.content
    assert _nothing_written()


def test_a_nul_in_a_webinar_code_is_a_404(organiser, client, catalogue):
    api = APIClient()
    api.force_authenticate(organiser)
    response = api.get("/api/v1/webinars/W-%00/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}
    client.force_login(organiser)
    assert client.get("/webinars/W-%00/").status_code == 404


@pytest.mark.parametrize("field", ["title", "package", "timezone", "start", "share_us-east"])
def test_nul_characters_in_the_booking_form_are_a_400(client, organiser, catalogue, field):
    client.force_login(organiser)
    form = {k: str(v) for k, v in _payload(audience="custom").items()} | {"share_us-east": "100"}
    form[field] += "\x00"
    for url in (reverse("webinars:book"), reverse("webinars:quote")):
        assert client.post(url, form).status_code == 400
    assert _nothing_written()


def test_unknown_api_paths_answer_a_json_404(catalogue):
    for path in ("/api/v1/nothing/", "/api/v1/webinars/a/b/", "/api/v1/webinars//"):
        response = APIClient().get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
