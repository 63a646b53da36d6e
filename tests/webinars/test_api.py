from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import hold, local_start
from webinars.models import Webinar


def _payload(**extra):
    return {
        "title": "API webinar",
        "package": "100k",
        "start": local_start(days=30).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "Europe/Berlin",
        "duration_minutes": 120,
        "audience": "custom",
        "split": {"eu-west": "50", "eu-central": "50"},
    } | extra


def test_packages_are_public(catalogue):
    response = APIClient().get(reverse("api-packages"))
    assert response.status_code == 200
    assert [p["code"] for p in response.json()] == ["10k", "50k", "100k", "250k", "500k", "1m"]


def test_quote_and_hold_through_the_api(organiser, catalogue):
    client = APIClient()
    client.force_authenticate(organiser)
    quote = client.post(reverse("api-quote"), _payload(), format="json").json()
    assert quote["available"] is True and quote["price_minor"] == 3_000_000
    created = client.post(reverse("api-webinars"), _payload(), format="json")
    assert created.status_code == 201
    body = created.json()
    assert (
        body["status"] == "held"
        and body["cluster_plan"]["total_nodes"] == quote["cluster"]["total_nodes"]
    )
    listed = client.get(reverse("api-webinars")).json()
    assert [w["code"] for w in listed] == [body["code"]]


def test_api_errors_are_specific_and_change_nothing(organiser, catalogue):
    client = APIClient()
    client.force_authenticate(organiser)
    bad_split = client.post(
        reverse("api-webinars"), _payload(split={"eu-west": "50"}), format="json"
    )
    assert bad_split.status_code == 400
    assert bad_split.json() == {
        "code": "split_sum",
        "detail": "The audience split must add up to 100% (it adds up to 50%).",
    }
    bad_zone = client.post(
        reverse("api-webinars"), _payload(timezone="Nowhere/City"), format="json"
    )
    assert bad_zone.status_code == 400 and bad_zone.json()["code"] == "unknown_timezone"
    missing = client.post(reverse("api-webinars"), {"title": "x"}, format="json")
    assert missing.status_code == 400 and "package" in missing.json()
    assert not Webinar.objects.exists()


def test_other_organisations_webinars_are_404(organiser, outsider, package_10k):
    theirs = hold(outsider, package_10k)
    client = APIClient()
    client.force_authenticate(organiser)
    assert client.get(reverse("api-webinar", args=[theirs.code])).status_code == 404
    assert client.get(reverse("api-webinar", args=["W-NOTHERE"])).status_code == 404


def test_anonymous_cannot_book(catalogue):
    response = APIClient().post(reverse("api-webinars"), _payload(), format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert not Webinar.objects.exists()


def test_openapi_schema_is_served(client, catalogue):
    response = client.get(reverse("schema"))
    assert response.status_code == 200
    assert b"/api/v1/webinars/" in response.content


def test_a_start_with_an_offset_is_the_instant_it_names(organiser, catalogue):
    client = APIClient()
    client.force_authenticate(organiser)
    day = local_start(days=30).strftime("%Y-%m-%d")
    body = client.post(
        reverse("api-webinars"), _payload(start=f"{day}T15:00:00+02:00"), format="json"
    ).json()
    assert body["start_at"].startswith(f"{day}T13:00:00")


def test_the_schema_documents_every_answer_and_the_audience_split_dependency(client, catalogue):
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    statuses = {
        (path, method): sorted(op["responses"])
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }
    assert statuses == {
        ("/api/v1/packages/", "get"): ["200", "401", "429"],
        ("/api/v1/quotes/", "post"): ["200", "400", "401", "403", "415", "429"],
        ("/api/v1/webinars/", "get"): ["200", "401", "429"],
        ("/api/v1/webinars/", "post"): ["201", "400", "401", "403", "409", "415", "429"],
        ("/api/v1/webinars/{code}/", "get"): ["200", "401", "404", "429"],
    }
    quote = schema["paths"]["/api/v1/quotes/"]["post"]
    assert quote["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Quote"
    }
    assert list(quote["requestBody"]["content"]) == ["application/json"]
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["code", "detail"]
    # A custom audience needs a split; a preset has none to give.
    assert "split" in components["CustomBooking"]["required"]
    assert "split" not in components["PresetBooking"]["properties"]
    assert components["BookingRequest"]["discriminator"]["propertyName"] == "audience"
