"""One error style for every app (webinars.errors, billing/errors.py): a code, named
parameters, and a translatable message from the app's table, rendered in the language
active when it is read. A French catalogue is all French needs."""

import ast
import struct
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.functional import Promise

from billing.errors import BillingError, GatewayError, GatewayUnavailable
from billing.gateway import WebhookSignatureError
from webinars.errors import BookingError, DomainError

ROOT = Path(__file__).resolve().parent.parent
# Raised with (code, **params); CapacityError and CustomerMissingError build their own.
STYLED = {
    "BookingError": BookingError,
    "BillingError": BillingError,
    "GatewayError": GatewayError,
    "GatewayUnavailable": GatewayUnavailable,
    "WebhookSignatureError": WebhookSignatureError,
}


def _raised_errors() -> list[tuple[str, ast.Call]]:
    found = []
    for app in ("webinars", "billing", "events"):
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) in STYLED:
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def test_every_error_raised_names_a_code_of_its_table_and_no_sentence():
    raised = _raised_errors()
    assert len(raised) > 40
    for where, call in raised:
        cls = STYLED[call.func.id]
        assert len(call.args) <= 1, f"{where}: a sentence instead of parameters"
        if call.args:  # GatewayError() defaults to the code "gateway"
            code = call.args[0]
            assert isinstance(code, ast.Constant) and code.value in cls.messages, where


@pytest.mark.parametrize("cls", [BookingError, BillingError])
def test_every_message_is_translatable(cls):
    assert cls.messages
    for code, text in cls.messages.items():
        assert isinstance(text, Promise), code  # gettext_lazy, read in the request's language


def test_both_apps_answer_alike():
    booking = BookingError("invalid_transition", status="cancelled", action="started")
    billing = BillingError("not_cancellable", status="cancelled")
    assert isinstance(billing, DomainError) and isinstance(booking, DomainError)
    assert (booking.code, booking.http_status) == ("invalid_transition", 409)
    assert booking.message == "A cancelled booking cannot be started."
    assert (billing.code, billing.http_status) == ("not_cancellable", 409)
    assert billing.message == str(billing) == "A cancelled booking cannot be cancelled."
    assert BillingError("refund_amount").http_status == 400
    assert GatewayError(reason="card_declined").http_status == 502
    assert GatewayError(reason="card_declined").message == "Stripe: card_declined"
    with pytest.raises(KeyError):
        BillingError("no_such_rule")


def _write_mo(path: Path, messages: dict[str, str]) -> None:
    """A GNU gettext catalogue (what `compilemessages` writes), without the gettext tools."""
    entries = {"": "Content-Type: text/plain; charset=UTF-8\n", **messages}
    keys = sorted(entries)
    originals = [key.encode() for key in keys]
    translations = [entries[key].encode() for key in keys]
    count = len(keys)
    start = 28 + 16 * count
    tables: list[int] = []
    data = b""
    for strings in (originals, translations):
        for text in strings:
            tables += [len(text), start + len(data)]
            data += text + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, 28, 28 + 8 * count, 0, start)
    path.write_bytes(header + struct.pack(f"<{4 * count}I", *tables) + data)


def test_a_french_catalogue_is_all_french_needs(settings, tmp_path):
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    _write_mo(
        folder / "django.mo",
        {
            "A {status} booking cannot be cancelled.": (
                "Une réservation {status} ne peut pas être annulée."
            ),
            "Duration must be between {min} and {max} minutes.": (
                "La durée doit être comprise entre {min} et {max} minutes."
            ),
        },
    )
    settings.LOCALE_PATHS = [tmp_path]
    billing = BillingError("not_cancellable", status="expired")
    booking = BookingError("duration_range", min=30, max=240)
    with translation.override("fr"):
        assert billing.message == "Une réservation expired ne peut pas être annulée."
        assert booking.message == "La durée doit être comprise entre 30 et 240 minutes."
    assert billing.message == "A expired booking cannot be cancelled."
