"""Event Services' transactional email: renders templates/emails/<name>-subject.txt,
-body.txt and -body.html into one message with optional attachments (the same template
naming as billing's invoices; events and billing never import each other)."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_templated(
    name: str,
    to: Sequence[str],
    ctx: dict[str, Any],
    *,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> None:
    """Send the email `name` to `to`; (filename, bytes, mimetype) attachments. The subject
    template may span lines; it is joined into one."""
    ctx = {"site_url": settings.SITE_URL, "seller": settings.SELLER} | ctx
    message = EmailMultiAlternatives(
        subject=" ".join(render_to_string(f"emails/{name}-subject.txt", ctx).split()),
        body=render_to_string(f"emails/{name}-body.txt", ctx),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=[settings.EVENT_SERVICES_EMAIL],
    )
    message.attach_alternative(render_to_string(f"emails/{name}-body.html", ctx), "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()
