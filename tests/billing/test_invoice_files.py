"""Invoice PDFs leave only through the permission-checked download view, in every mode:
MEDIA_ROOT is never served (not even with DEBUG on) and stored names are not guessable."""

import importlib
import re

import pytest
from django.urls import clear_url_caches

from billing import pdf
from billing.models import Invoice
from billing.services import invoicing
from tests.billing.finance_helpers import (
    organiser_in,
    paid_payment,
    tmp_media,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.usefixtures("tmp_media")


@pytest.fixture
def debug_urls(settings):
    """The URLconf as `make run` builds it: imported with DEBUG on."""
    import config.urls

    settings.DEBUG = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(config.urls)
    clear_url_caches()


def _issued_with_pdf(user, package) -> Invoice:
    invoice = invoicing.issue_invoice(paid_payment(user, package), actor=None)
    pdf.ensure_pdf(invoice)
    invoice.refresh_from_db()
    return invoice


def test_stored_invoice_files_are_not_served_even_with_debug_on(
    debug_urls, organiser, outsider, package_10k, client
):
    invoice = _issued_with_pdf(organiser, package_10k)
    assert invoice.pdf.storage.exists(invoice.pdf.name)
    guessable = f"/media/invoices/{invoice.year}/{invoice.number}.pdf"
    for url in (f"/media/{invoice.pdf.name}", guessable):
        assert client.get(url).status_code == 404
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        client.logout()


def test_stored_names_carry_a_random_token_not_just_the_number(package_10k):
    user = organiser_in("IE", "Dublin Events Ltd")
    first, second = (_issued_with_pdf(user, package_10k) for _ in range(2))
    for invoice in (first, second):
        folder, token, filename = invoice.pdf.name.rsplit("/", 2)
        assert folder == f"invoices/{invoice.year}"
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", token)
        assert filename == f"{invoice.number}.pdf"
    assert first.pdf.name.rsplit("/", 2)[1] != second.pdf.name.rsplit("/", 2)[1]


def test_the_download_view_serves_the_owner_and_hides_it_from_others(
    organiser, outsider, staff, package_10k, client
):
    invoice = _issued_with_pdf(organiser, package_10k)
    url = f"/billing/invoices/{invoice.code}/pdf/"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(organiser)
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    # Staff read it through the admin's own checked view; the admin never links to media.
    client.force_login(staff)
    page = client.get(f"/admin/billing/invoice/{invoice.pk}/change/")
    assert page.status_code == 200 and "/media/" not in page.text
    assert client.get(f"/admin/billing/invoice/{invoice.pk}/pdf/").content.startswith(b"%PDF")


def test_files_stored_under_the_old_guessable_names_move_to_a_token_folder(
    organiser, package_10k, client, django_capture_on_commit_callbacks
):
    from django.apps import apps
    from django.core.files.base import ContentFile

    migration = importlib.import_module("billing.migrations.0004_invoice_pdf_unguessable_names")
    invoice = invoicing.issue_invoice(paid_payment(organiser, package_10k), actor=None)
    storage = invoice.pdf.storage
    old = storage.save(f"invoices/{invoice.year}/{invoice.number}.pdf", ContentFile(b"%PDF old"))
    Invoice.objects.filter(pk=invoice.pk).update(pdf=old)
    with django_capture_on_commit_callbacks(execute=True):
        migration.move_guessable_files(apps, None)
    invoice.refresh_from_db()
    assert invoice.pdf.name != old and invoice.pdf.name.endswith(f"/{invoice.number}.pdf")
    assert not storage.exists(old) and storage.exists(invoice.pdf.name)
    client.force_login(organiser)
    assert client.get(f"/billing/invoices/{invoice.code}/pdf/").content == b"%PDF old"
