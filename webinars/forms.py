"""Input validation for the organiser pages (400-style errors shown next to the field)."""

from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib.auth import password_validation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from webinars.countries import (
    EU_MEMBER_STATES,
    is_valid_vat_id,
    normalise_country,
    normalise_vat_id,
    validate_country,
)
from webinars.errors import BookingError
from webinars.models import Organisation, Package, Region, User
from webinars.rules import AUDIENCE_PRESETS, CUSTOM_PRESET, booking_kwargs_from, parse_split

COMMON_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Berlin",
    "Europe/Paris",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
]


def timezone_choices() -> list[tuple[str, str]]:
    rest = sorted(available_timezones() - set(COMMON_ZONES))
    return [(z, z) for z in COMMON_ZONES] + [(z, z) for z in rest]


class SignupForm(forms.Form):
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email already exists."))
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password"):
            password_validation.validate_password(
                data["password"], User(email=data.get("email", ""))
            )
        return data


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = list(Organisation.BILLING_FIELDS)

    def clean_country(self) -> str:
        country = normalise_country(self.cleaned_data["country"])
        validate_country(country)
        return country

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = (data.get("vat_id") or "").strip()
        country = data.get("country")
        if raw and country:
            data["vat_id"] = self._normalise_vat_id(raw, country)
        return data

    def _normalise_vat_id(self, raw: str, country: str) -> str:
        """EU VAT ids are stored compact with their country prefix (DE123456789); an
        invalid one is refused here rather than silently taxed as a consumer later."""
        compact = normalise_vat_id(raw, country)
        if country in EU_MEMBER_STATES and not is_valid_vat_id(compact, country):
            self.add_error(
                "vat_id",
                _("This is not a valid VAT number for %(country)s.") % {"country": country},
            )
        return compact


class LocalDateTimeField(forms.DateTimeField):
    """The start as typed, kept naive: `rules.local_to_utc` alone reads it in the chosen
    zone (Django's field would read it in the current time zone first). An explicit offset
    stays aware and names the instant, as on the API."""

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            # Python's ISO parser stops at a NUL and would accept what precedes it.
            parsed = None if "\x00" in text else parse_datetime(text)
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        # BaseTemporalField parses the other input formats, without any time zone.
        return parsed or super(forms.DateTimeField, self).to_python(value)


class BookingForm(forms.Form):
    """The booking / quote form. Region shares arrive as `share_<region code>` fields."""

    title = forms.CharField(max_length=200, required=False)
    package = forms.ModelChoiceField(
        queryset=Package.objects.filter(is_active=True), to_field_name="code", empty_label=None
    )
    start = LocalDateTimeField(
        label=_("Start (local time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    # A text box with a <datalist>: the browser filters the ~600 zones as one types
    # ("paris", "new_york"); the choices still decide what is accepted.
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=timezone_choices,
        initial="America/New_York",
        widget=forms.TextInput(
            attrs={"list": "timezone-options", "autocomplete": "off", "spellcheck": "false"}
        ),
        error_messages={
            "required": _("Choose a time zone from the list (an IANA name such as Europe/Paris)."),
            "invalid_choice": _(
                "Choose a time zone from the list (an IANA name such as Europe/Paris); "
                "“%(value)s” is not one."
            ),
        },
    )
    duration_minutes = forms.IntegerField(min_value=1, max_value=24 * 60, initial=90)
    audience = forms.ChoiceField(
        choices=[(k, v[0]) for k, v in AUDIENCE_PRESETS.items()]
        + [(CUSTOM_PRESET, _("Custom split"))],
        initial="north-america",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regions = list(Region.objects.filter(is_active=True))
        for region in self.regions:
            self.fields[f"share_{region.code}"] = forms.DecimalField(
                label=region.name,
                required=False,
                min_value=0,
                max_value=100,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.01"}),
            )

    def share_fields(self) -> list[forms.BoundField]:
        return [self[f"share_{r.code}"] for r in self.regions]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("audience") == CUSTOM_PRESET:
            raw = {r.code: data.get(f"share_{r.code}") for r in self.regions}
            try:
                data["custom_split"] = parse_split(raw)
            except BookingError as exc:
                raise forms.ValidationError(exc.message) from exc
        else:
            data["custom_split"] = None
        return data

    def booking_kwargs(self) -> dict[str, Any]:
        return booking_kwargs_from(self.cleaned_data)
