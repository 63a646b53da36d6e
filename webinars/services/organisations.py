"""Organisers, organisations and memberships: sign-up, billing details (stored
normalised: country code, VAT id) and who acts for whom. Every write is audited."""

from typing import Any

from django.db import transaction

from webinars import audit
from webinars.countries import normalise_country, normalise_vat_id
from webinars.errors import BookingError
from webinars.models import (
    Membership,
    Organisation,
    User,
)

ORGANISATION_FIELDS = Organisation.BILLING_FIELDS


def register_organiser(*, email: str, password: str) -> User:
    """Create an organiser account (no organisation yet)."""
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password)
        audit.record("user.registered", user, actor=user, data={"email": user.email})
    return user


def _billing_details(
    fields: dict[str, Any], *, current: Organisation | None = None
) -> dict[str, Any]:
    """`fields` over `current`'s billing details, as stored: the country as its code
    (aliases resolved) and the VAT id normalised for that country (`webinars.countries`).
    Callers keep only the keys they were given, so a new country never rewrites an id."""
    details = {k: fields.get(k, getattr(current, k, "")) for k in ORGANISATION_FIELDS}
    details["country"] = normalise_country(details["country"])
    details["vat_id"] = normalise_vat_id(details["vat_id"], details["country"])
    return details


@transaction.atomic
def create_organisation(user: User, *, actor: User, **fields: Any) -> Organisation:
    """Create the organisation `user` books for, with `user` as its owner."""
    if Membership.objects.filter(user=user).exists():
        raise BookingError(
            "invalid_transition", status="member", action="given a second organisation"
        )
    organisation = Organisation(**_billing_details(fields))
    organisation.full_clean()
    organisation.save()
    Membership.objects.create(user=user, organisation=organisation, role=Membership.Role.OWNER)
    audit.record("organisation.created", organisation, actor=actor, data=fields)
    return organisation


@transaction.atomic
def update_organisation(organisation: Organisation, *, actor: User, **fields: Any) -> Organisation:
    """Change billing details. Issued invoices keep the details they were issued with."""
    given = _billing_details(fields, current=organisation)
    changed = {k: v for k, v in given.items() if k in fields and getattr(organisation, k) != v}
    for key, value in changed.items():
        setattr(organisation, key, value)
    organisation.full_clean()
    organisation.save(update_fields=list(changed) or None)
    audit.record("organisation.updated", organisation, actor=actor, data=changed)
    return organisation


@transaction.atomic
def add_member(
    organisation: Organisation, *, user: User, role: str, actor: User | None
) -> Membership:
    """Let `user` act for `organisation`. A user belongs to at most one organisation."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if Membership.objects.filter(user=user).exists():
        raise BookingError("already_member", email=user.email)
    membership = Membership(user=user, organisation=organisation, role=role)
    membership.full_clean(validate_unique=False)
    membership.save()
    audit.record(
        "organisation.member_added",
        organisation,
        actor=actor,
        data={"user": user.email, "role": role},
    )
    return membership


@transaction.atomic
def set_member_role(membership: Membership, *, role: str, actor: User | None) -> Membership:
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if membership.role == role:
        return membership
    old, membership.role = membership.role, role
    membership.full_clean(validate_unique=False)
    membership.save(update_fields=["role"])
    audit.record(
        "organisation.member_role_changed",
        membership.organisation,
        actor=actor,
        data={"user": membership.user.email, "from": old, "to": role},
    )
    return membership


@transaction.atomic
def remove_member(membership: Membership, *, actor: User | None) -> None:
    """The user no longer acts for the organisation; its bookings stay the organisation's."""
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    organisation = membership.organisation
    email = membership.user.email
    membership.delete()
    audit.record("organisation.member_removed", organisation, actor=actor, data={"user": email})
