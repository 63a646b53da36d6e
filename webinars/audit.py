"""The audit trail every app writes through: one row per state change."""

from typing import Any

from django.db import models

from webinars.models import AuditEntry, User, Webinar


def record(
    action: str,
    subject: models.Model,
    *,
    actor: User | None,
    webinar: Webinar | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit row. `subject` is any model with a `code` (else its number or pk)."""
    code = getattr(subject, "code", None) or getattr(subject, "number", None) or subject.pk
    if webinar is None and isinstance(subject, Webinar):
        webinar = subject
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        subject_type=subject._meta.model_name or "",
        subject_code=str(code),
        webinar=webinar,
        data=data or {},
    )
