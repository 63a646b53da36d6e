"""The WSGI entry point (config.wsgi.application, what gunicorn and runserver serve): the
join path goes to its own handler with the lean middleware stack, every other path to
the whole site's. Called as a WSGI server calls it, not through the test client (which
builds its own handler from settings.MIDDLEWARE)."""

import io
import json
import time

import pytest
from django.conf import settings
from django.urls import reverse

from config import wsgi
from events.ratelimit import TokenBucket
from events.tokens import join_token
from tests.events.admission_helpers import publish, seats


@pytest.fixture(autouse=True)
def _fresh_bucket(settings):
    settings.ATTENDEE_RATE_PER_IP = 1000.0
    settings.ATTENDEE_BURST_PER_IP = 1000
    bucket = TokenBucket("join:127.0.0.1", rate=1, burst=1)
    bucket.reset()
    yield
    bucket.reset()


class Answer:
    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, list[str]] = {}
        self.body = b""

    def start(self, status: str, headers: list[tuple[str, str]], exc_info=None) -> None:
        self.status = int(status.split()[0])
        for name, value in headers:
            self.headers.setdefault(name.lower(), []).append(value)


def call(path: str, *, method: str = "GET", body: bytes = b"") -> Answer:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    answer = Answer()
    result = wsgi.application(environ, answer.start)
    try:
        answer.body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return answer


def test_the_join_path_prefix_is_the_join_urls_prefix():
    for name in ("events:join", "events:join_seat", "events:join_heartbeat"):
        assert reverse(name, args=["t"]).startswith(settings.JOIN_PATH_PREFIX)
    assert not reverse("events:register", args=["W-AAAA"]).startswith(settings.JOIN_PATH_PREFIX)


def test_the_join_handler_loaded_only_the_join_middleware():
    assert wsgi.join_path.middleware == tuple(settings.JOIN_PATH_MIDDLEWARE)
    assert not any("session" in m or "csrf" in m or "axes" in m for m in wsgi.join_path.middleware)
    assert settings.MIDDLEWARE != settings.JOIN_PATH_MIDDLEWARE  # restored after loading


def test_a_join_through_the_wsgi_entry_point_runs_no_sql_and_sets_no_cookie(
    db, code, django_assert_num_queries
):
    now = time.time()
    publish(code, opens=now - 60, ends=now + 3600)
    token = join_token(code, 7, "us-east")
    with django_assert_num_queries(0):
        page = call(f"/j/{token}/")
        first = call(f"/j/{token}/seat", method="POST", body=b"{}")
        session = json.loads(first.body)["session"]
        beat = call(
            f"/j/{token}/heartbeat", method="POST", body=json.dumps({"session": session}).encode()
        )
    assert page.status == 200 and b"Finding you a seat" in page.body
    assert first.status == 200 and json.loads(first.body)["status"] == "admitted"
    assert beat.status == 200 and json.loads(beat.body)["status"] == "ok"
    for answer in (page, first, beat):
        assert "set-cookie" not in answer.headers
        assert answer.headers["x-content-type-options"] == ["nosniff"]  # security headers
    assert page.headers["x-frame-options"] == ["DENY"]
    assert seats(code) == 1


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/j/", "GET", 404),
        ("/j/forged/", "GET", 404),
        ("/j/forged", "GET", 301),  # the trailing-slash redirect is kept
        ("/j/forged/seat", "POST", 404),
        ("/j/forged/seat", "GET", 405),
        ("/j/forged/heartbeat", "PUT", 405),
        ("/j/a/b/c/d", "GET", 404),
        ("/j/%00/", "GET", 404),
    ],
)
def test_odd_join_paths_get_a_clear_answer_never_a_5xx(db, path, method, status):
    answer = call(path, method=method, body=b"{}" if method != "GET" else b"")
    assert answer.status == status, answer.body[:300]
    assert "set-cookie" not in answer.headers


def test_every_other_path_keeps_the_whole_site_stack(db):
    login = call("/accounts/login/")
    assert login.status == 200
    cookies = " ".join(login.headers.get("set-cookie", []))
    assert "csrftoken=" in cookies  # CSRF middleware ran: the join handler did not serve it
