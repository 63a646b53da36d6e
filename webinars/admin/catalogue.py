"""Packages and regions: every edit through a catalogue service, audited."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from webinars import services
from webinars.admin.base import (
    EditOnlyMixin,
    changed_fields,
    money_display,
    run_service,
)
from webinars.errors import BookingError
from webinars.models import (
    Package,
    Region,
)


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
        services.update_package(
            obj, actor=request.user, **changed_fields(form, services.PACKAGE_FIELDS)
        )


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
        run_service(
            request,
            services.update_region,
            obj,
            actor=request.user,
            **changed_fields(form, services.REGION_FIELDS),
        )


# --- Organisations and their members --------------------------------------------------------
