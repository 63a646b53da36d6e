"""Password guessing is throttled (django-axes) on the site login, the admin login and the
API's HTTP basic auth: after LOGIN_FAILURE_LIMIT failures for one username, or from one
client address, the right password is refused too for the cool-off period."""

import base64
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import local_start
from webinars.models import User, Webinar

PASSWORD = "correct-horse-battery"


def _fail_logins(client, email: str, times: int, url: str | None = None, **extra) -> None:
    for _ in range(times):
        response = client.post(
            url or reverse("login"), {"username": email, "password": "wrong-guess"}, **extra
        )
        assert response.status_code in (200, 429)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _basic(email: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def test_the_right_password_is_refused_after_too_many_failures(client, organiser):
    assert settings.AXES_FAILURE_LIMIT == 5
    _fail_logins(client, organiser.email, settings.AXES_FAILURE_LIMIT)
    response = client.post(reverse("login"), {"username": organiser.email, "password": PASSWORD})
    assert response.status_code == 429
    assert not _logged_in(client)
    page = response.content.decode()
    assert "Too many failed login attempts" in page
    assert "15 minutes" in page
    assert reverse("password_reset") in page
    assert int(response["Retry-After"]) == 15 * 60


def test_fewer_failures_than_the_limit_still_log_in(client, organiser):
    _fail_logins(client, organiser.email, settings.AXES_FAILURE_LIMIT - 1)
    response = client.post(reverse("login"), {"username": organiser.email, "password": PASSWORD})
    assert response.status_code == 302
    assert _logged_in(client)


def test_the_lock_holds_for_the_username_from_another_address(client, organiser):
    """Guessing from many addresses does not get around the lock on one account, and the
    username's case does not either."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": organiser.email.upper(), "password": "wrong-guess"},
            REMOTE_ADDR=f"203.0.113.{n + 1}",
        )
    response = client.post(
        reverse("login"),
        {"username": organiser.email, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 429 and not _logged_in(client)


def test_one_address_guessing_many_usernames_is_locked(client, organiser, outsider):
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": f"guess{n}@acme.example", "password": "wrong-guess"},
            REMOTE_ADDR="203.0.113.9",
        )
    response = client.post(
        reverse("login"),
        {"username": outsider.email, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 429 and not _logged_in(client)
    # Another address is not affected.
    response = client.post(
        reverse("login"),
        {"username": outsider.email, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302


def test_the_lock_ends_after_the_cool_off(client, organiser):
    from axes.models import AccessAttempt

    _fail_logins(client, organiser.email, settings.AXES_FAILURE_LIMIT)
    assert AccessAttempt.objects.exists()
    # The cool-off counts from the last failure: age the stored failures past it.
    cool_off = settings.AXES_COOLOFF_TIME
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= cool_off + timedelta(seconds=1)
        attempt.save(update_fields=["attempt_time"])
    response = client.post(reverse("login"), {"username": organiser.email, "password": PASSWORD})
    assert response.status_code == 302 and _logged_in(client)


def test_the_admin_login_is_locked_too(client, staff):
    url = reverse("admin:login")
    _fail_logins(client, staff.email, settings.AXES_FAILURE_LIMIT, url=url)
    response = client.post(url, {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()
    assert not _logged_in(client)


def test_api_basic_auth_is_locked_with_a_clear_answer(organiser, catalogue):
    api = APIClient()
    url = reverse("api-webinars")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert api.get(url, HTTP_AUTHORIZATION=_basic(organiser.email, "nope")).status_code in (
            401,
            403,
        )
    last = api.get(url, HTTP_AUTHORIZATION=_basic(organiser.email, "nope"))
    assert last.status_code == 429
    payload = {
        "title": "Locked out",
        "package": "10k",
        "start": local_start(days=30).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "Europe/Berlin",
        "duration_minutes": 60,
        "audience": "europe",
    }
    response = api.post(
        url, payload, format="json", HTTP_AUTHORIZATION=_basic(organiser.email, PASSWORD)
    )
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.json()["detail"]
    assert int(response["Retry-After"]) == 15 * 60
    assert not Webinar.objects.exists()
    # The web login shares the count: the account is locked there as well.
    page = APIClient().post(reverse("login"), {"username": organiser.email, "password": PASSWORD})
    assert page.status_code == 429


def test_api_basic_auth_with_the_right_password_works(organiser, catalogue):
    response = APIClient().get(
        reverse("api-webinars"), HTTP_AUTHORIZATION=_basic(organiser.email, PASSWORD)
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "userid",
    ["x" * 5000 + "@example.com", "nul\x00@example.com", "   "],
    ids=["long", "nul", "blank"],
)
def test_odd_api_usernames_are_refused_without_a_server_error(organiser, catalogue, userid):
    response = APIClient().get(reverse("api-webinars"), HTTP_AUTHORIZATION=_basic(userid, "pw"))
    assert response.status_code in (401, 403)


def test_password_reset_works_while_locked_out_and_lifts_the_lock(client, organiser):
    _fail_logins(client, organiser.email, settings.AXES_FAILURE_LIMIT)
    response = client.post(reverse("password_reset"), {"email": organiser.email})
    assert response.status_code == 302 and len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    new_password = "another-long-passphrase"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302
    # Proving access to the mailbox lifts the lock on that account.
    response = client.post(
        reverse("login"), {"username": organiser.email, "password": new_password}
    )
    assert response.status_code == 302 and _logged_in(client)
    assert User.objects.get(pk=organiser.pk).check_password(new_password)


def test_behind_the_proxy_the_forwarded_address_counts(client, organiser, outsider, settings):
    """Behind the TLS proxy every request comes from the proxy: the client is the address
    the proxy appended to X-Forwarded-For (a client cannot forge that last entry)."""
    settings.BEHIND_TLS_PROXY = True
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": f"guess{n}@acme.example", "password": "wrong-guess"},
            HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.9",
            secure=True,
        )
    blocked = client.post(
        reverse("login"),
        {"username": outsider.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        secure=True,
    )
    assert blocked.status_code == 429
    other = client.post(
        reverse("login"),
        {"username": outsider.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7",
        secure=True,
    )
    assert other.status_code == 302
    garbage = client.post(
        reverse("login"),
        {"username": organiser.email, "password": "wrong-guess"},
        HTTP_X_FORWARDED_FOR="not-an-address",
        secure=True,
    )
    assert garbage.status_code == 200
