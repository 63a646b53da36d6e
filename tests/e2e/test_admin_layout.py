"""Every admin change list fits a 1280 px wide screen (Debian's Chromium via Playwright):
no page-wide horizontal scroll and no table wider than its column of the page."""

import shutil

import pytest
from django.contrib import admin
from django.urls import reverse

from billing.models import Dispute, StripeCustomer, StripeEvent
from billing.services import invoicing
from tests.billing.finance_helpers import made_refund, organiser_in, paid_payment
from tests.conftest import hold, local_start, make_organiser
from webinars.models import User

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


@pytest.fixture
def busy_admin(transactional_db, catalogue, settings, tmp_path):
    """Rows in every list, with long names where people type them."""
    settings.MEDIA_ROOT = tmp_path / "media"
    organiser = make_organiser("alice@acme.example", "Acme Campaigns International Holdings Inc")
    hold(organiser, _package("1m"), title="Annual general keynote with partners and press")
    german = organiser_in("DE", "Globex Deutschland GmbH", vat_id="DE136695976")
    payment = paid_payment(german, _package("10k"), title="Produktlaunch Herbst")
    invoicing.issue_invoice(payment, actor=None)
    refund = made_refund(payment, 100_000)
    invoicing.issue_credit_note(refund, actor=None)
    StripeCustomer.objects.create(
        organisation=german.membership.organisation, stripe_id="cus_Q2w3E4r5T6y7U8i9"
    )
    Dispute.objects.create(
        payment=payment,
        stripe_id="du_1Pq2Rs3Tu4Vw5Xy6Za7Bc8De",
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        reason="product_not_received",
        status="needs_response",
    )
    StripeEvent.objects.create(
        event_id="evt_1Pq2Rs3Tu4Vw5Xy6Za7Bc8De",
        type="checkout.session.async_payment_succeeded",
        object_id="cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ",
        created=payment.paid_at,
        payload={},
    )
    return User.objects.create_superuser(email="admin@megawebinar.example", password="pw-admin-1")


def _package(code: str):
    from webinars.models import Package

    return Package.objects.get(code=code)


def test_every_change_list_fits_1280_pixels(busy_admin, live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    urls = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label in ("webinars", "billing")
    ]
    too_wide = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{live_server.url}{reverse('admin:login')}")
        page.fill("#id_username", busy_admin.email)
        page.fill("#id_password", "pw-admin-1")
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        for url in urls:
            page.goto(f"{live_server.url}{url}")
            widths = page.evaluate(
                """() => {
                    const table = document.querySelector('#result_list');
                    const box = document.querySelector('.results');
                    return {
                        page: document.documentElement.scrollWidth,
                        table: table ? table.scrollWidth : 0,
                        room: box ? box.clientWidth : 0,
                        rows: document.querySelectorAll('#result_list tbody tr').length,
                    };
                }"""
            )
            assert widths["rows"] > 0, url
            if widths["page"] > 1280 or widths["table"] > widths["room"]:
                too_wide[url] = widths
        browser.close()
    assert not too_wide, "\n".join(f"{u}: {w}" for u, w in too_wide.items())


def test_the_start_page_with_the_operations_overview_fits_1280_pixels(
    busy_admin, live_server, monkeypatch
):
    """The overview sits above the models on the admin's index; long names wrap inside it."""
    from django.test import TestCase
    from playwright.sync_api import sync_playwright

    from webinars import services

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    organiser = User.objects.get(email="alice@acme.example")
    with TestCase.captureOnCommitCallbacks(execute=True):
        webinar = hold(
            organiser,
            _package("50k"),
            title="Quarterly all-hands with the whole partner network",
            start_local=local_start(days=4),
        )
        services.confirm_booking(webinar, actor=None)
    services.flag_webinar(webinar, actor=None, reason="No stream engineer free for the event")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{live_server.url}{reverse('admin:login')}")
        page.fill("#id_username", busy_admin.email)
        page.fill("#id_password", "pw-admin-1")
        page.click("input[type=submit]")
        page.wait_for_selector("#operations-overview")
        widths = page.evaluate(
            """() => ({
                page: document.documentElement.scrollWidth,
                rows: document.querySelectorAll('#operations-overview tbody tr').length,
                apps: document.querySelectorAll('#content-main .app-events').length,
            })"""
        )
        browser.close()
    assert widths["page"] <= 1280
    assert (widths["rows"], widths["apps"]) == (1, 1)
