"""Event Services' emails to staff and organisers: built by the one helper
(`webinars.emails.make_message`), answered to Event Services rather than the seller."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings

from webinars.emails import make_message


def send_templated(
    name: str,
    to: Sequence[str],
    ctx: dict[str, Any],
    *,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> None:
    """Send the email `name` to `to`; (filename, bytes, mimetype) attachments."""
    message = make_message(name, to, ctx, attachments=attachments)
    message.reply_to = [settings.EVENT_SERVICES_EMAIL]
    message.send()
