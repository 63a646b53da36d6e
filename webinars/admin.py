"""Event Services' tool for the booking core: catalogue, regions and fleet sizes,
webinars, the fleet ledger and the audit log (read-only). Writes go through services."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from webinars import services
from webinars.errors import BookingError, DomainError
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


class ReadOnlyMixin:
    """View-only: rows are written by services, never by hand (admins and inlines)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
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


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "capacity",
        "price_minor",
        "currency",
        "lead_time_days",
        "max_duration_minutes",
        "is_active",
    ]
    list_editable = ["is_active"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "fleet_size", "is_active", "sort_order"]
    list_filter = ["is_active"]

    def save_model(self, request: HttpRequest, obj: Region, form: Any, change: bool) -> None:
        # Fleet size changes must reach the future slot rows, under lock, via the service.
        new_size = obj.fleet_size
        if change and "fleet_size" in form.changed_data:
            obj.fleet_size = Region.objects.get(pk=obj.pk).fleet_size
            super().save_model(request, obj, form, change)
            try:
                services.set_fleet_size(obj, fleet_size=new_size, actor=request.user)
            except BookingError as exc:
                messages.error(request, exc.message)
            return
        super().save_model(request, obj, form, change)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["legal_name", "country", "vat_id", "billing_email", "created_at"]
    list_filter = ["country"]
    search_fields = ["legal_name", "vat_id", "billing_email"]
    inlines = [MembershipInline]


class ReservationInline(ReadOnlyMixin, admin.TabularInline):
    model = FleetReservation
    extra = 0
    readonly_fields = ["region", "nodes", "slot_from", "slot_until", "released_at"]


class AuditInline(ReadOnlyMixin, admin.TabularInline):
    model = AuditEntry
    extra = 0
    readonly_fields = ["created_at", "actor", "action", "data"]
    fields = readonly_fields
    ordering = ["created_at"]


@admin.register(Webinar)
class WebinarAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "title",
        "organisation",
        "package",
        "start_at",
        "status",
        "needs_attention",
    ]
    list_filter = ["status", "package", "needs_attention", ("start_at", admin.DateFieldListFilter)]
    search_fields = ["code", "title", "organisation__legal_name"]
    date_hierarchy = "start_at"
    list_select_related = ["organisation", "package"]
    inlines = [ReservationInline, AuditInline]
    # Cancelling a booking is billing's action (it refunds); see billing/admin.py.
    actions = ["expire_selected_holds"]
    readonly_fields = [
        f.name
        for f in Webinar._meta.fields
        if f.name not in ("needs_attention", "attention_reason")
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # bookings are made by organisers (or the API), never by hand

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Release the hold of selected webinars")
    def expire_selected_holds(self, request: HttpRequest, queryset: QuerySet[Webinar]) -> None:
        def release(webinar: Webinar) -> str:
            services.expire_hold(webinar, actor=request.user, reason="released by staff")
            return "hold released"

        apply_to_each(request, queryset, release)


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
