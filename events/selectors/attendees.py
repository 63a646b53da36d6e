"""Reads of registration: which region a country's attendees are served from, a webinar's
registration state and counts, the organiser's registrant list, and the permission-checking
fetches (another organisation's webinar, registrant or import is a 404)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from events.models import InviteeImport, Registrant, Registration
from webinars.geography import country_position
from webinars.models import Region, User, Webinar
from webinars.selectors import get_webinar_for_user, webinars_for_user

EARTH_RADIUS_KM = 6371.0


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def region_chooser(webinar: Webinar) -> Callable[[str], str]:
    """A function country code -> the audience region its attendees are served from: the
    nearest of the webinar's own regions (those of its audience split, where its edge nodes
    run), by the distance to the country's main city. A country we cannot place, or none,
    gets the region with the largest share. Memoised per country: an import of a million
    rows asks about a few hundred countries."""
    split: dict[str, int] = webinar.audience_split or {}
    regions = list(Region.objects.filter(code__in=split.keys()) if split else ())
    if not regions:
        regions = list(Region.objects.filter(is_active=True))
    positions = {r.code: (float(r.latitude), float(r.longitude)) for r in regions}
    fallback = max(split, key=lambda code: split[code]) if split else next(iter(positions), "")
    memo: dict[str, str] = {}

    def choose(country: str) -> str:
        if country not in memo:
            where = country_position(country) if country else None
            if where is None or not positions:
                memo[country] = fallback
            else:
                point = (float(where[0]), float(where[1]))
                memo[country] = min(positions, key=lambda c: _distance_km(point, positions[c]))
        return memo[country]

    return choose


def registration_of(webinar: Webinar) -> Registration | None:
    return Registration.objects.filter(webinar=webinar).first()


def public_webinar(code: str) -> Webinar:
    """The webinar behind a public registration page; 404 for a code that does not exist.
    Whether registration is open is the page's business (it shows the closed page)."""
    if "\x00" in code:
        raise Http404("No such webinar.")
    try:
        return Webinar.objects.select_related("registration").get(code=code)
    except Webinar.DoesNotExist as exc:
        raise Http404("No such webinar.") from exc


@dataclass(frozen=True)
class RegistrationCounts:
    total: int
    from_form: int
    imported: int
    links_pending: int


def registration_counts(webinar: Webinar) -> RegistrationCounts:
    counts = Registrant.objects.filter(webinar=webinar).aggregate(
        total=Count("id"),
        from_form=Count("id", filter=Q(source=Registrant.Source.FORM)),
        imported=Count("id", filter=Q(source=Registrant.Source.IMPORT)),
        links_pending=Count("id", filter=Q(link_sent_at__isnull=True)),
    )
    return RegistrationCounts(**counts)


def registrants_of(webinar: Webinar, *, search: str = "") -> QuerySet[Registrant]:
    """The organiser's registrant list, newest first; `search` matches the start of the
    email (stored lower-cased), within the webinar's rows of the (webinar, email) index."""
    registrants = Registrant.objects.filter(webinar=webinar).order_by("-id")
    search = search.replace("\x00", "").strip().lower()
    if search:
        registrants = registrants.filter(email__startswith=search)
    return registrants


def get_registrant_for_user(user: User, code: str, email: str) -> Registrant:
    """One registrant of the user's webinar `code`, by email (registrants have no public
    identifier of their own; the email is unique per webinar). 404 otherwise."""
    webinar = get_webinar_for_user(user, code)
    email = (email or "").replace("\x00", "").strip().lower()
    try:
        return Registrant.objects.select_related("webinar").get(webinar=webinar, email=email)
    except Registrant.DoesNotExist as exc:
        raise Http404("No such registrant.") from exc


def get_import_for_user(user: User, import_code: str) -> InviteeImport:
    """An invitee import of one of the user's webinars; 404 for any other."""
    try:
        return InviteeImport.objects.select_related("webinar").get(
            code=import_code, webinar__in=webinars_for_user(user)
        )
    except (InviteeImport.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such import.") from exc


def recent_imports(webinar: Webinar, *, limit: int = 3) -> list[InviteeImport]:
    return list(InviteeImport.objects.filter(webinar=webinar)[:limit])


def registered_emails(webinar: Webinar) -> Iterator[str]:
    """Every address registered for `webinar`, streamed through a server-side cursor (a
    million of them never sit in memory at once)."""
    return (
        Registrant.objects.filter(webinar=webinar)
        .values_list("email", flat=True)
        .iterator(chunk_size=20_000)
    )
