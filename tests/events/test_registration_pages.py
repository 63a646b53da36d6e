"""Registration pages: the public form (errors by the field, the closed page, the same
answer for a new and a known address, the per-address rate limit), the organiser's panel,
registrant list, delete with confirmation, invitee upload and its result page, the admin,
and other organisations' 404s."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.models import InviteeImport, Registrant
from events.ratelimit import redis_client
from events.services import registration
from events.tokens import revoked_key
from tests.events.registration_helpers import confirmed_webinar, fast_mail, open_webinar, register

FORM = {"name": "Dana Scully", "email": "dana@example.org", "country": "DE", "consent": "on"}


@pytest.fixture(autouse=True)
def _fresh(settings, tmp_path):
    fast_mail(settings)
    settings.MEDIA_ROOT = tmp_path
    # Each test gets its own client address: the per-address buckets outlive a test.
    client = redis_client()
    for key in client.scan_iter(match="ratelimit:{attendee-post:*"):
        client.delete(key)


@pytest.fixture
def webinar(organiser, package_10k):
    return open_webinar(organiser, package_10k)


def _main(response) -> str:
    """The page's own content (the layout carries a per-response CSRF token)."""
    return response.content.decode().split("<main>")[1].split("</main>")[0]


def test_the_public_page_registers_without_login_and_mails_the_link(
    client, webinar, django_capture_on_commit_callbacks
):
    url = reverse("events:register", args=[webinar.code])
    assert url == f"/r/{webinar.code}/"
    page = client.get(url)
    assert page.status_code == 200 and webinar.title in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, FORM)
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    registrant = Registrant.objects.get(webinar=webinar)
    assert (registrant.email, registrant.region) == ("dana@example.org", "eu-central")
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments


def test_a_known_address_gets_exactly_the_same_answer(client, webinar):
    url = reverse("events:register", args=[webinar.code])
    first = client.post(url, FORM)
    again = client.post(url, FORM | {"name": "Someone Else"})
    assert (first.status_code, _main(first)) == (again.status_code, _main(again))
    assert Registrant.objects.filter(webinar=webinar).count() == 1


@pytest.mark.parametrize(
    ("change", "field_text"),
    [
        ({"consent": ""}, "Please agree to receive the webinar emails"),
        ({"email": "dana@"}, "Enter a valid email address."),
        ({"name": ""}, "This field is required."),
        ({"country": "ZZ"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_a_400_with_the_message_and_registers_nobody(
    client, webinar, change, field_text
):
    response = client.post(reverse("events:register", args=[webinar.code]), FORM | change)
    assert response.status_code == 400
    assert field_text in response.content.decode()
    assert not Registrant.objects.exists()


def test_a_closed_registration_shows_the_closed_page(client, webinar, organiser):
    registration.close_registration(webinar, actor=organiser)
    url = reverse("events:register", args=[webinar.code])
    for response in (client.get(url), client.post(url, FORM)):
        assert response.status_code == 200
        assert "Registration is closed" in response.content.decode()
    assert not Registrant.objects.exists()
    assert client.get(reverse("events:register", args=["W-NOSUCH1"])).status_code == 404
    assert client.get("/r/W-NO%00PE/").status_code == 404


def test_resend_answers_the_same_for_known_and_unknown_addresses(
    client, webinar, django_capture_on_commit_callbacks
):
    register(webinar, "dana@example.org")
    redis_client().delete(*redis_client().keys(f"{{{webinar.code}}}:resend:*"))
    url = reverse("events:resend", args=[webinar.code])
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(url, {"email": "dana@example.org"})
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(url, {"email": "mulder@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert _main(known).replace("dana@", "X@") == _main(unknown).replace("mulder@", "X@")
    assert [m.to for m in mail.outbox] == [["dana@example.org"]]
    assert client.post(url, {"email": "nope"}).status_code == 400


def test_posts_from_one_address_are_rate_limited(client, webinar, settings):
    settings.ATTENDEE_POSTS_PER_IP_PER_MINUTE = 3
    url = reverse("events:register", args=[webinar.code])
    codes = [
        client.post(
            url, FORM | {"email": f"p{i}@example.org"}, REMOTE_ADDR="203.0.113.9"
        ).status_code
        for i in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]
    limited = client.post(url, FORM, REMOTE_ADDR="203.0.113.9")
    assert limited["Retry-After"] and "Too many" in limited.content.decode()
    assert Registrant.objects.filter(webinar=webinar).count() == 3
    # Another address is not held back.
    assert (
        client.post(url, FORM | {"email": "x@example.org"}, REMOTE_ADDR="198.51.100.7").status_code
        == 200
    )


def test_the_panel_opens_and_closes_registration(client, organiser, package_10k):
    webinar = confirmed_webinar(organiser, package_10k)
    client.force_login(organiser)
    detail = reverse("webinars:detail", args=[webinar.code])
    page = client.get(detail).content.decode()
    assert 'id="registration-panel"' in page and "Open registration" in page
    client.post(reverse("events:registration_open", args=[webinar.code]))
    page = client.get(detail).content.decode()
    assert f"/r/{webinar.code}/" in page and "Close registration" in page
    register(webinar, "dana@example.org")
    assert "<strong>1</strong> registered" in client.get(detail).content.decode()
    client.post(reverse("events:registration_close", args=[webinar.code]))
    assert "Open registration" in client.get(detail).content.decode()


def test_the_list_searches_by_email_and_delete_asks_first_then_revokes(client, organiser, webinar):
    dana = register(webinar, "dana@example.org")
    register(webinar, "fox@example.org", name="Fox Mulder")
    client.force_login(organiser)
    url = reverse("events:registrants", args=[webinar.code])
    page = client.get(url, {"q": "DANA"}).content.decode()
    assert "dana@example.org" in page and "fox@example.org" not in page
    delete = reverse("events:registrant_delete", args=[webinar.code])
    confirm = client.post(delete, {"email": "dana@example.org"})
    assert confirm.status_code == 200 and "Delete Dana Scully?" in confirm.content.decode()
    assert Registrant.objects.filter(pk=dana.pk).exists()
    done = client.post(delete, {"email": "dana@example.org", "confirm": "on"})
    assert done.status_code == 302
    assert not Registrant.objects.filter(pk=dana.pk).exists()
    assert redis_client().sismember(revoked_key(webinar.code), dana.pk)
    assert client.post(delete, {"email": "dana@example.org", "confirm": "on"}).status_code == 404
    assert client.post(delete, {"email": "not an email"}).status_code == 400


def test_another_organisations_registrants_are_404s(client, outsider, webinar):
    dana = register(webinar, "dana@example.org")
    job = InviteeImport.objects.create(webinar=webinar, filename="x.csv")
    client.force_login(outsider)
    code = webinar.code
    assert client.get(reverse("events:registrants", args=[code])).status_code == 404
    assert client.get(reverse("events:import", args=[job.code])).status_code == 404
    for name in ("registration_open", "registration_close", "send_links", "import_invitees"):
        assert client.post(reverse(f"events:{name}", args=[code])).status_code == 404, name
    delete = reverse("events:registrant_delete", args=[code])
    assert client.post(delete, {"email": dana.email, "confirm": "on"}).status_code == 404
    assert client.post(delete, {}).status_code == 404
    assert Registrant.objects.filter(pk=dana.pk).exists()
    page = client.get(reverse("webinars:dashboard")).content.decode()
    assert "dana@example.org" not in page
    client.logout()
    assert client.get(reverse("events:registrants", args=[code])).status_code == 302


def _upload(client, webinar, content: bytes, **fields):
    data = {
        "file": SimpleUploadedFile("guests.csv", content, content_type="text/csv"),
        "lawful_basis": "on",
        "send_links": "on",
    } | fields
    return client.post(reverse("events:import_invitees", args=[webinar.code]), data)


def test_an_upload_with_bad_rows_shows_them_by_line_and_imports_nothing(client, organiser, webinar):
    client.force_login(organiser)
    response = _upload(client, webinar, b"email,name,country\nann@example.org,Ann,US\nbad,Bob,US\n")
    assert response.status_code == 302
    result = client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in result and "<td>3</td>" in result
    assert "Enter a valid email address." in result
    assert not Registrant.objects.exists()


def test_a_good_upload_imports_and_the_result_page_says_how_many(
    client, organiser, webinar, django_capture_on_commit_callbacks
):
    client.force_login(organiser)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(
            client, webinar, b"email,name\nann@example.org,Ann\nann@example.org,Ann\n"
        )
    result = client.get(response["Location"]).content.decode()
    assert "<strong>1</strong> invitee imported from 2 rows" in result
    assert [m.to for m in mail.outbox] == [["ann@example.org"]]


@pytest.mark.parametrize(
    "content", [b"", b"\x00\x01\x02\xff\xfe" * 100, b"\x89PNG\r\n\x1a\n" + bytes(range(256))]
)
def test_a_broken_file_is_refused_with_a_message_never_a_5xx(client, organiser, webinar, content):
    client.force_login(organiser)
    response = _upload(client, webinar, content)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        page = client.get(response["Location"]).content.decode()
        assert "Nothing was imported" in page
    assert not Registrant.objects.exists()


def test_an_upload_without_the_consent_box_or_file_is_a_400(client, organiser, webinar):
    client.force_login(organiser)
    assert (
        _upload(client, webinar, b"email,name\na@example.org,A\n", lawful_basis="").status_code
        == 400
    )
    response = client.post(
        reverse("events:import_invitees", args=[webinar.code]), {"lawful_basis": "on"}
    )
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert not InviteeImport.objects.exists()


def test_the_admin_lists_registrants_by_webinar_and_region_and_deletes_through_the_service(
    client, staff, webinar
):
    dana = register(webinar, "dana@example.org")
    register(webinar, "fox@example.org", country="US")
    client.force_login(staff)
    changelist = reverse("admin:events_registrant_changelist")
    page = client.get(changelist, {"region": "us-east"}).content.decode()
    assert "fox@example.org" in page and "dana@example.org" not in page
    assert "dana@example.org" in client.get(changelist, {"q": "dana"}).content.decode()
    client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [dana.pk], "post": "yes"},
    )
    assert not Registrant.objects.filter(pk=dana.pk).exists()
    assert redis_client().sismember(revoked_key(webinar.code), dana.pk)
