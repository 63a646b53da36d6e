"""Finance pages (revenue, export downloads) and the organiser's invoice PDF download."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from billing import selectors
from billing.exports import EXPORT_FORMATS
from billing.services import invoicing
from tests.billing.finance_helpers import (
    made_refund,
    organiser_in,
    paid_payment,
    tmp_media,  # noqa: F401 - fixture
)
from webinars import services
from webinars.models import User

pytestmark = pytest.mark.usefixtures("tmp_media")


@pytest.fixture
def finance(db) -> User:
    # The data migration's group; transactional tests flush it, so make it again.
    importlib.import_module("billing.migrations.0003_finance_group").create(apps, None)
    user = User.objects.create_user(
        email="fiona@megawebinar.example", password="pw-finance-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Finance"))
    return user


def test_finance_group_can_view_billing_and_change_refunds(finance):
    codenames = set(
        Group.objects.get(name="Finance").permissions.values_list("codename", flat=True)
    )
    assert {
        "view_invoice",
        "view_payment",
        "view_refund",
        "view_stripeevent",
        "change_refund",
    } <= codenames
    assert not {"change_invoice", "delete_invoice", "add_invoice"} & codenames


def test_revenue_for_period_separates_invoiced_collected_recognised_and_deferred(
    organiser, package_10k
):
    ie = organiser_in("IE", "Dublin Events Ltd")
    delivered = paid_payment(ie, package_10k)  # 11,070.00 gross, 9,000.00 net
    pending = paid_payment(organiser, package_10k, title="Later")  # 9,000.00 export
    invoicing.issue_invoice(delivered, actor=None)
    invoicing.issue_invoice(pending, actor=None)
    invoicing.issue_credit_note(made_refund(pending, 100_000), actor=None)
    services.complete_webinar(delivered.webinar, actor=None)
    today = timezone.now().date()
    # A period that contains today and the webinars' scheduled end (~20 days ahead).
    figures = selectors.revenue_for_period(today, today + timedelta(days=40))
    assert figures == {
        "USD": {
            "invoiced": 2_007_000,
            "credited": 100_000,
            "collected": 2_007_000,
            "refunded": 100_000,
            "recognised": 900_000,
            "deferred": 800_000,
        }
    }
    # Before the delivered webinar's date, all of it is still deferred.
    early = selectors.revenue_for_period(today, today)["USD"]
    assert early["recognised"] == 0 and early["deferred"] == 1_700_000
    assert selectors.revenue_for_period(today - timedelta(days=9), today - timedelta(days=1)) == {}


def test_revenue_page_shows_the_period_figures_with_downloads(
    finance, organiser, package_10k, client
):
    invoicing.issue_invoice(paid_payment(organiser, package_10k), actor=None)
    today = timezone.now().date()
    client.force_login(finance)
    response = client.get("/finance/", {"from": today.isoformat(), "to": today.isoformat()})
    assert response.status_code == 200
    [usd] = response.context["currencies"]
    figures = {key: amount for _label, amount, key in usd["rows"]}
    assert figures["invoiced"] == "USD 9,000.00" and figures["collected"] == "USD 9,000.00"
    assert figures["deferred"] == "USD 9,000.00" and figures["recognised"] == "USD 0.00"
    for key in EXPORT_FORMATS:
        assert f"/finance/exports/{key}/?from={today}&amp;to={today}" in response.text


def test_revenue_page_defaults_to_this_month_and_rejects_a_reversed_period(finance, client):
    client.force_login(finance)
    response = client.get("/finance/")
    assert response.status_code == 200
    assert response.context["start"] == timezone.now().date().replace(day=1)
    assert client.get("/finance/", {"from": "2026-02-10", "to": "2026-02-01"}).status_code == 400
    assert client.get("/finance/", {"from": "yesterday", "to": "2026-02-01"}).status_code == 400


@pytest.mark.parametrize("fmt", list(EXPORT_FORMATS))
def test_finance_user_downloads_each_format(fmt, finance, organiser, package_10k, client):
    invoicing.issue_invoice(paid_payment(organiser, package_10k), actor=None)
    today = timezone.now().date().isoformat()
    client.force_login(finance)
    response = client.get(f"/finance/exports/{fmt}/", {"from": today, "to": today})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == EXPORT_FORMATS[fmt].content_type
    assert "attachment" in response["Content-Disposition"]
    assert int(response["X-Export-Rows"]) >= 1
    assert body.startswith(b"PK" if fmt == "xlsx" else b'"EXTF"' if fmt == "datev" else b"")
    assert len(body) > 100


def test_bad_export_requests_are_404_or_400(finance, client):
    client.force_login(finance)
    assert (
        client.get("/finance/exports/qif/", {"from": "2026-01-01", "to": "2026-01-31"}).status_code
        == 404
    )
    assert client.get("/finance/exports/journal/").status_code == 400
    assert (
        client.get(
            "/finance/exports/datev/", {"from": "2025-12-01", "to": "2026-01-31"}
        ).status_code
        == 400
    )


def test_finance_pages_are_closed_to_organisers_staff_and_anonymous(organiser, client):
    client.force_login(organiser)
    assert client.get("/finance/").status_code == 403
    assert (
        client.get(
            "/finance/exports/journal/", {"from": "2026-01-01", "to": "2026-01-31"}
        ).status_code
        == 403
    )
    # Staff with the permission but outside the Finance group: still no.
    clerk = User.objects.create_user(email="clerk@megawebinar.example", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_invoice"))
    client.force_login(clerk)
    assert client.get("/finance/").status_code == 403
    client.logout()
    response = client.get("/finance/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_superuser_may_see_finance_pages(staff, client):
    client.force_login(staff)
    assert client.get("/finance/").status_code == 200


def test_organiser_downloads_own_invoice_pdf_and_not_anyone_elses(
    organiser, outsider, package_10k, client
):
    invoice = invoicing.issue_invoice(paid_payment(organiser, package_10k), actor=None)
    url = f"/billing/invoices/{invoice.code}/pdf/"
    client.force_login(organiser)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    invoice.refresh_from_db()
    assert invoice.pdf  # stored on first download, reused afterwards
    assert client.get(url).content == response.content
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get("/billing/invoices/not-a-uuid/pdf/").status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
