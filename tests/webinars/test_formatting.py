"""Amounts, rates and times are written by one module, `webinars.formatting`: English reads
as it always did, other languages as their readers expect, every currency with its own
number of decimals, and machine formats exactly, from integers."""

from datetime import UTC, datetime

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.urls import reverse
from django.utils import translation

from webinars.formatting import (
    amount_text,
    format_money,
    format_money_code,
    format_percent,
    percent_text,
)
from webinars.models import Package

NBSP = "\xa0"


def test_english_reads_as_it_always_did():
    assert format_money(900_000, "USD") == "$9,000.00 USD"
    assert format_money(-123, "eur") == "-€1.23 EUR"
    assert format_money(0, "GBP") == "£0.00 GBP"
    assert format_money_code(1_107_000, "USD") == "USD 11,070.00"
    assert format_money_code(-500_000, "USD") == "USD -5,000.00"
    assert [format_percent(bp) for bp in (2300, 2550, 0, 1, 10_000)] == [
        "23%",
        "25.5%",
        "0%",
        "0.01%",
        "100%",
    ]


@pytest.mark.parametrize(
    ("minor", "currency", "shown", "code_first", "machine"),
    [
        (900_000, "USD", "$9,000.00 USD", "USD 9,000.00", "9000.00"),
        (1_350_000, "JPY", "¥1,350,000 JPY", "JPY 1,350,000", "1350000"),
        (1_234_567, "BHD", "BHD 1,234.567", "BHD 1,234.567", "1234.567"),
        (-1_230, "CHF", "CHF -12.30", "CHF -12.30", "-12.30"),
    ],
)
def test_every_currency_has_its_own_number_of_decimals(minor, currency, shown, code_first, machine):
    assert format_money(minor, currency) == shown
    assert format_money_code(minor, currency) == code_first
    assert amount_text(minor, currency) == machine


def test_pages_and_documents_follow_the_language():
    with translation.override("de"):
        assert format_money(900_000, "EUR") == f"9.000,00{NBSP}€ EUR"
        assert format_money_code(-900_000, "USD") == "USD -9.000,00"
        assert format_percent(2550) == f"25,5{NBSP}%"


def test_machine_formats_ignore_the_language_and_keep_the_separator_they_are_given():
    with translation.override("de"):
        assert amount_text(-1_230, "EUR") == "-12.30"
        assert amount_text(1_107_000, "EUR", separator=",") == "11070,00"
        assert percent_text(2550) == "25.5"
        assert percent_text(2300, separator=",", trim=False) == "23,00"


def test_pricing_page_shows_a_zero_decimal_currency_without_cents(client, catalogue):
    Package.objects.filter(code="10k").update(currency="JPY", price_minor=1_350_000)
    body = client.get(reverse("pricing")).content.decode()
    assert "¥1,350,000 JPY" in body and "13,500.00" not in body


def test_template_libraries_are_split_by_subject():
    render = Template(
        "{% load money times catalogue audit_labels %}"
        "{% money 900000 'USD' %}|{{ 2550|percent }}|{{ moment|in_zone:'Europe/Paris' }}|"
        "{% staff_roles roles %}|{{ 'payment.succeeded'|action_label }}"
    ).render(
        Context(
            {
                "moment": datetime(2027, 1, 15, 14, tzinfo=UTC),
                "roles": {"moderator": 2, "producer": 1},
            }
        )
    )
    assert render == (
        "$9,000.00 USD|25.5%|Fri 15 Jan 2027, 15:00 CET|producer, 2 moderators|Payment received"
    )
    with pytest.raises(TemplateSyntaxError):
        Template("{% load money %}{{ moment|in_zone:'UTC' }}")
