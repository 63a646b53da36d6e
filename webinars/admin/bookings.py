"""Webinars (filters, inlines, actions, the attention flag), the fleet ledger and the audit
log (read-only)."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from webinars import admin_actions, services
from webinars.admin.base import (
    EMPTY,
    EditOnlyMixin,
    ReadOnlyAdmin,
    ReadOnlyMixin,
    apply_to_each,
    json_display,
    money_display,
    table,
    utc,
    webinar_time,
)
from webinars.formatting import format_money, format_percent
from webinars.models import (
    AuditEntry,
    FleetReservation,
    FleetSlot,
    Webinar,
)
from webinars.templatetags.catalogue import split_items

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
