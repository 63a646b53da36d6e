"""Transactional email of every app: one helper renders templates/emails/<name>-subject.txt,
-body.txt and -body.html into a message (healthchecks' make_message). Billing sends invoices
and notices with it, events the attendees' join links."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def make_message(
    name: str,
    to: Sequence[str] | str,
    ctx: dict[str, Any],
    *,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> EmailMultiAlternatives:
    """Build (not send) the email `name` for `to`, with (filename, bytes, mimetype)
    attachments. The subject template may span lines; it is joined into one."""
    ctx = {"site_url": settings.SITE_URL, "seller": settings.SELLER} | ctx
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", ctx).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{name}-body.txt", ctx),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to] if isinstance(to, str) else list(to),
        reply_to=[settings.SELLER["email"]],
    )
    message.attach_alternative(render_to_string(f"emails/{name}-body.html", ctx), "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message
