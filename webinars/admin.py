"""Event Services' tool for the booking core: catalogue, regions and fleet sizes,
organisations and their members, webinars, the fleet ledger and the audit log (read-only).

Every edit goes through a service, so it is validated, locked and audited exactly like the
same change made anywhere else: one audit row per edit, with the staff member as actor.
Times show their zone (a webinar's own zone with its abbreviation, and UTC), money is
formatted from minor units, and the JSON a booking keeps (audience split, cluster plan)
reads as tables.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from webinars import admin_actions, services
from webinars.errors import BookingError, DomainError
from webinars.formatting import format_in_zone, format_money, format_percent
from webinars.forms import OrganisationForm
from webinars.models import (
    AuditEntry,
    FleetReservation,
    FleetSlot,
    Membership,
    Organisation,
    Package,
    Region,
    User,
    Webinar,
)
from webinars.templatetags.catalogue import split_items

# The model list is one click away on the index; without the sidebar the change lists keep
# their columns within a 1280 px screen.
admin.site.enable_nav_sidebar = False
admin.site.site_header = "Mega Webinars admin"
admin.site.site_title = "Mega Webinars admin"

EMPTY = "—"


class EditOnlyMixin:
    """Rows are created by services (catalogue data, sign-up, booking) and never deleted
    (bookings, invoices and the audit log refer to them): staff may only edit them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyMixin(EditOnlyMixin):
    """View-only: rows are written by services, never by hand (admins and inlines)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


def apply_to_each(
    request: HttpRequest,
    queryset: QuerySet[Any],
    action: Callable[[Any], str],
    *,
    label: Callable[[Any], str] = lambda obj: str(obj.code),
) -> None:
    """Run one service per selected row for an admin action: a domain error becomes an
    error message for that row and the others still run; `action` returns the success
    text."""
    for obj in queryset:
        try:
            done = action(obj)
        except DomainError as exc:
            messages.error(request, f"{label(obj)}: {exc.message}")
        else:
            messages.success(request, f"{label(obj)}: {done}")


# --- Display helpers (also used by billing/admin.py) ----------------------------------------


def utc(moment: datetime | None) -> str:
    return EMPTY if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def zoned(moment: datetime | None, zone: str) -> SafeString | str:
    """A webinar's time in its own zone with the abbreviation, and in UTC below it."""
    if moment is None:
        return EMPTY
    return format_html(
        '<span class="nowrap">{}</span><br><span class="quiet nowrap">{}</span>',
        format_in_zone(moment, zone),
        utc(moment),
    )


def webinar_time(
    field: str, description: str, *, ordering: str | None = None
) -> Callable[[Any, Webinar], SafeString | str]:
    """A WebinarAdmin column/field (a method): the webinar's time `field` in its own zone
    and in UTC (`zoned`)."""

    @admin.display(description=description, ordering=ordering)
    def show(modeladmin: Any, obj: Webinar) -> SafeString | str:
        return zoned(getattr(obj, field), obj.time_zone)

    show.__name__ = f"{field}_zoned"
    return show


def money_display(
    field: str,
    description: str,
    *,
    currency: Callable[[Any], str] = lambda obj: obj.currency,
) -> Callable[[Any], SafeString | str]:
    """An admin column/field showing the integer minor units in `field` as money."""

    @admin.display(description=description, ordering=field)
    def show(obj: Any) -> SafeString | str:
        value = getattr(obj, field)
        if value is None:
            return EMPTY
        return format_html('<span class="nowrap">{}</span>', format_money(value, currency(obj)))

    show.__name__ = f"{field}_money"
    return show


def table(headers: list[str], rows: list[list[Any]], footer: list[Any] | None = None) -> SafeString:
    """A small read-only HTML table (values are escaped)."""
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    foot = (
        format_html(
            "<tfoot><tr>{}</tr></tfoot>",
            format_html_join("", "<th>{}</th>", ((cell,) for cell in footer)),
        )
        if footer
        else ""
    )
    return format_html(
        '<table class="readable"><thead><tr>{}</tr></thead><tbody>{}</tbody>{}</table>',
        head,
        body,
        foot,
    )


def json_display(field: str, description: str) -> Callable[[Any], str]:
    """A flat JSON object as a two-column table; anything nested, pretty-printed."""

    @admin.display(description=description)
    def show(obj: Any) -> SafeString | str:
        value = getattr(obj, field)
        if not value:
            return EMPTY
        if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
            return table(["field", "value"], [[k, v] for k, v in value.items()])
        return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))

    show.__name__ = f"{field}_table"
    return show


def readable_fields(
    model: type[models.Model], *, currency: Callable[[Any], str] = lambda obj: obj.currency
) -> list[Any]:
    """A read-only admin's fields in model order: amounts in minor units as money, basis
    points as percentages, JSON as tables."""
    fields: list[Any] = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        label = str(f.verbose_name)
        if f.name.endswith("_minor"):
            label = label.removesuffix(" minor").replace("tax", "VAT")
            fields.append(money_display(f.name, label, currency=currency))
        elif f.name.endswith("_bp"):
            fields.append(percent_display(f.name, label.removesuffix(" bp").replace("tax", "VAT")))
        elif isinstance(f, models.JSONField):
            fields.append(json_display(f.name, label))
        else:
            fields.append(f.name)
    return fields


def percent_display(field: str, description: str) -> Callable[[Any], str]:
    @admin.display(description=description, ordering=field)
    def show(obj: Any) -> str:
        return format_percent(getattr(obj, field))

    show.__name__ = f"{field}_percent"
    return show


# --- Users, catalogue, regions ------------------------------------------------------------


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


def _changed(form: forms.ModelForm, editable: tuple[str, ...]) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in editable}


@admin.register(Package)
class PackageAdmin(EditOnlyMixin, admin.ModelAdmin):
    """The catalogue. Packages come with the catalogue migration and are never deleted
    (bookings refer to them): take one off sale instead."""

    list_display = [
        "code",
        "name",
        "capacity_display",
        money_display("price_minor", "price (net)"),
        "lead_time_days",
        "durations",
        "is_active",
    ]
    list_editable = ["is_active"]
    readonly_fields = ["code"]
    fields = ["code", *services.PACKAGE_FIELDS]

    @admin.display(description="capacity", ordering="capacity")
    def capacity_display(self, obj: Package) -> str:
        return f"{obj.capacity:,}"

    @admin.display(description="duration")
    def durations(self, obj: Package) -> str:
        return f"{obj.min_duration_minutes} to {obj.max_duration_minutes} min"

    def save_model(self, request: HttpRequest, obj: Package, form: Any, change: bool) -> None:
        # Also the change list's "on sale" check boxes (list_editable) come through here.
        services.update_package(obj, actor=request.user, **_changed(form, services.PACKAGE_FIELDS))


class RegionForm(forms.ModelForm):
    def clean_fleet_size(self) -> int:
        size = self.cleaned_data["fleet_size"]
        if self.instance.pk is not None:
            try:
                # An early answer next to the field; the service checks again under lock.
                services.check_fleet_size(self.instance, fleet_size=size)
            except BookingError as exc:
                raise forms.ValidationError(exc.message) from exc
        return size


@admin.register(Region)
class RegionAdmin(EditOnlyMixin, admin.ModelAdmin):
    """Regions and their fleet sizes. Codes are fixed (audience splits use them)."""

    form = RegionForm
    list_display = ["code", "name", "fleet_size", "is_active", "sort_order"]
    list_filter = ["is_active"]
    readonly_fields = ["code"]
    fields = ["code", *services.REGION_FIELDS]

    def save_model(self, request: HttpRequest, obj: Region, form: Any, change: bool) -> None:
        # A BookingError here means a booking took the nodes after the form's check.
        _run(
            request,
            services.update_region,
            obj,
            actor=request.user,
            **_changed(form, services.REGION_FIELDS),
        )


# --- Organisations and their members --------------------------------------------------------


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # Moving a membership to another user is a removal and an addition.
            self.fields["user"].disabled = True


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(EditOnlyMixin, admin.ModelAdmin):
    """Billing details (validated like the organiser's own page) and members. Organisations
    are created by their owner at sign-up, and never deleted (invoices refer to them)."""

    form = OrganisationForm
    fields = list(Organisation.BILLING_FIELDS)
    list_display = ["legal_name", "country", "vat_id", "billing_email", "created_at"]
    list_filter = ["country"]
    search_fields = ["legal_name", "vat_id", "billing_email"]
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        changed = _changed(form, Organisation.BILLING_FIELDS)
        if changed:
            # The bound form already copied the input onto `obj`: the service compares
            # against the stored row, so its audit row records what changed.
            stored = Organisation.objects.get(pk=obj.pk)
            services.update_organisation(stored, actor=request.user, **changed)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        formset.save(commit=False)  # sorts the rows into new, changed and deleted ones
        actor = request.user
        for membership in formset.deleted_objects:
            _run(request, services.remove_member, membership, actor=actor)
        for membership, _fields in formset.changed_objects:
            _run(request, services.set_member_role, membership, role=membership.role, actor=actor)
        for membership in formset.new_objects:
            _run(
                request,
                services.add_member,
                form.instance,
                user=membership.user,
                role=membership.role,
                actor=actor,
            )


def _run(request: HttpRequest, service: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """A broken rule becomes an error message on the page instead of a server error."""
    try:
        service(*args, **kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)


# --- Webinars -------------------------------------------------------------------------------


class ReservationInline(ReadOnlyMixin, admin.TabularInline):
    model = FleetReservation
    extra = 0
    fields = readonly_fields = ["region", "nodes", "slot_from", "slot_until", "released_at"]


class AuditInline(ReadOnlyMixin, admin.TabularInline):
    model = AuditEntry
    extra = 0
    fields = readonly_fields = ["created_at", "actor", "action", json_display("data", "data")]
    ordering = ["created_at"]


@admin.register(Webinar)
class WebinarAdmin(EditOnlyMixin, admin.ModelAdmin):
    """Bookings are made by organisers (or the API), never by hand."""

    list_display = [
        "code",
        "title",
        "organisation_name",
        "package_name",
        "starts",
        "status",
        money_display("price_minor", "price"),
        "attention",
    ]
    list_filter = ["status", "package", "needs_attention", ("start_at", admin.DateFieldListFilter)]
    search_fields = ["code", "title", "organisation__legal_name"]
    date_hierarchy = "start_at"
    list_select_related = ["organisation", "package"]
    inlines = [ReservationInline, AuditInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "code",
                    "title",
                    "organisation",
                    "created_by",
                    "status",
                    "package",
                    "capacity_display",
                    "price",
                ]
            },
        ),
        (
            "Schedule",
            {
                "fields": [
                    "starts",
                    "ends",
                    "time_zone",
                    "occupied",
                    "hold_expires",
                    "funds_deadline_display",
                ]
            },
        ),
        ("Audience and relay cluster", {"fields": ["audience", "cluster"]}),
        ("Attention", {"fields": ["needs_attention", "attention_reason"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]
    # Staff edit only the attention flag and its reason; the rest is the booking's record.
    readonly_fields = [
        name
        for _title, options in fieldsets
        for name in options["fields"]
        if name not in ("needs_attention", "attention_reason")
    ]

    @property
    def actions(self) -> list[Any]:  # type: ignore[override]
        """Its own, then those other apps registered in webinars.admin_actions (billing's
        "Cancel selected webinars and refund them in full": cancelling refunds)."""
        return ["expire_selected_holds", *admin_actions.webinar_actions()]

    # Foreign-key columns never wrap in the admin; these do, so the list fits 1280 px.
    @admin.display(description="organisation", ordering="organisation__legal_name")
    def organisation_name(self, obj: Webinar) -> str:
        return obj.organisation.legal_name

    @admin.display(description="flag", boolean=True, ordering="needs_attention")
    def attention(self, obj: Webinar) -> bool:
        return obj.needs_attention

    @admin.display(description="package", ordering="package__capacity")
    def package_name(self, obj: Webinar) -> str:
        return obj.package.name

    starts = webinar_time("start_at", "starts", ordering="start_at")
    ends = webinar_time("end_at", "ends")

    @admin.display(description="holds the fleet")
    def occupied(self, obj: Webinar) -> str:
        return format_html(
            "{} to {}<br>(warm-up and drain included)",
            utc(obj.occupied_from),
            utc(obj.occupied_until),
        )

    hold_expires = webinar_time("hold_expires_at", "hold expires")
    funds_deadline_display = webinar_time("funds_deadline", "funds deadline")

    @admin.display(description="capacity")
    def capacity_display(self, obj: Webinar) -> str:
        return f"{obj.capacity:,} attendees"

    @admin.display(description="price (net)")
    def price(self, obj: Webinar) -> str:
        return format_money(obj.price_minor, obj.currency)

    @admin.display(description="audience split")
    def audience(self, obj: Webinar) -> SafeString:
        split = split_items(obj.audience_split or {})
        rows = [[region, format_percent(bp)] for region, bp in split]
        preset = obj.audience_preset or "custom"
        return format_html("{}<br>{}", preset, table(["region", "share"], rows))

    @admin.display(description="cluster plan")
    def cluster(self, obj: Webinar) -> SafeString | str:
        plan = obj.cluster_plan or {}
        regions = plan.get("regions") or []
        if not regions:
            return EMPTY
        keys = ["viewers", "edges", "spare_edges", "relays", "origins", "nodes"]
        rows = [[r.get("region", "")] + [f"{r.get(k, 0):,}" for k in keys] for r in regions]
        totals = ["total"] + [f"{sum(r.get(k, 0) for r in regions):,}" for k in keys]
        return table(
            ["region", "viewers", "edges", "spare edges", "relays", "origins", "nodes"],
            rows,
            totals,
        )

    def save_model(self, request: HttpRequest, obj: Webinar, form: Any, change: bool) -> None:
        # Only the attention flag is editable here.
        if not {"needs_attention", "attention_reason"} & set(form.changed_data):
            return
        reason = form.cleaned_data.get("attention_reason", "")
        if form.cleaned_data.get("needs_attention"):
            services.flag_webinar(obj, actor=request.user, reason=reason or "flagged by staff")
        else:
            services.clear_flag(obj, actor=request.user, note=reason)

    @admin.action(description="Release the hold of selected webinars")
    def expire_selected_holds(self, request: HttpRequest, queryset: QuerySet[Webinar]) -> None:
        def release(webinar: Webinar) -> str:
            services.expire_hold(webinar, actor=request.user, reason="released by staff")
            return "hold released"

        apply_to_each(request, queryset, release)


# --- The ledger and the audit log (read-only) ----------------------------------------------


@admin.register(FleetSlot)
class FleetSlotAdmin(ReadOnlyAdmin):
    list_display = ["region", "slot_start", "used", "capacity"]
    list_filter = ["region", ("slot_start", admin.DateFieldListFilter)]
    date_hierarchy = "slot_start"
    list_select_related = ["region"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "subject_type", "subject_code"]
    list_filter = ["subject_type", "action"]
    search_fields = ["subject_code", "action", "actor__email"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]
    fields = readonly_fields = [
        "created_at",
        "actor",
        "action",
        "subject_type",
        "subject_code",
        "webinar",
        "details",
    ]

    @admin.display(description="data")
    def details(self, obj: AuditEntry) -> str:
        return json_display("data", "data")(obj)
