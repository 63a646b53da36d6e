"""The API's serializers: what a quote or booking request must hold, and how quotes,
webinars and packages read. The schema-only shapes below make the audience/split
dependency explicit in the OpenAPI description; validation uses BookingInputSerializer."""

from datetime import datetime
from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from webinars.errors import BookingError
from webinars.models import Package, Webinar
from webinars.rules import AUDIENCE_PRESETS, CUSTOM_PRESET, booking_kwargs_from, parse_split

START_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?$"
)


@extend_schema_field(
    {
        "type": "string",
        "pattern": START_PATTERN,
        "example": "2027-03-01T15:00",
        "description": (
            "Local start time in `timezone`, without offset (2027-03-01T15:00). A time the "
            "clocks skip is refused; a time they repeat is read as its first occurrence. "
            "An explicit offset or Z (2027-03-01T14:00Z) names the instant itself."
        ),
    }
)
class LocalDateTimeField(serializers.DateTimeField):
    """The start as given: naive stays naive, an explicit offset stays aware, so that
    `rules.local_to_utc` alone turns it into UTC (DRF would read a naive time as UTC)."""

    def enforce_timezone(self, value: datetime) -> datetime:
        return value


def _package_field() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code",
        queryset=Package.objects.filter(is_active=True),
        help_text="Package code, from GET /api/v1/packages/.",
    )


def _split_field(*, required: bool) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=2),
        required=required,
        help_text=(
            "Percent of the audience per region code (up to two decimals, adding up to "
            '100), e.g. {"eu-west": "60", "us-east": "40"}. Required when audience is '
            "custom; ignored for a preset."
        ),
    )


# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]: the schema's two audience enums.
PRESET_AUDIENCES = list(AUDIENCE_PRESETS)
CUSTOM_AUDIENCE = [CUSTOM_PRESET]


class _BookingFields(serializers.Serializer):
    package = _package_field()
    start = LocalDateTimeField()
    timezone = serializers.CharField(max_length=64, help_text="IANA name, e.g. Europe/Paris.")
    duration_minutes = serializers.IntegerField(min_value=1, max_value=1440)


class BookingInputSerializer(_BookingFields):
    """Validates a quote or booking. The schema shows it as `PresetBooking | CustomBooking`,
    which says what this checks: a split is required for a custom audience, and ignored
    otherwise."""

    audience = serializers.ChoiceField(choices=[*AUDIENCE_PRESETS, CUSTOM_PRESET])
    split = _split_field(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        split = attrs.pop("split", None)
        if attrs["audience"] == CUSTOM_PRESET:
            if split is None:
                raise serializers.ValidationError(
                    {"split": ["This field is required when audience is custom."]}
                )
            try:
                attrs["custom_split"] = parse_split(split)
            except BookingError as exc:
                raise serializers.ValidationError({"split": [exc.message]}) from exc
        return attrs

    def booking_kwargs(self) -> dict[str, Any]:
        return booking_kwargs_from(self.validated_data)


class WebinarInputSerializer(BookingInputSerializer):
    title = serializers.CharField(max_length=200)


# Schema-only shapes: the same fields, with the audience/split dependency made explicit.
class PresetBookingSerializer(_BookingFields):
    audience = serializers.ChoiceField(choices=PRESET_AUDIENCES)


class CustomBookingSerializer(_BookingFields):
    audience = serializers.ChoiceField(choices=CUSTOM_AUDIENCE)
    split = _split_field(required=True)


class PresetWebinarSerializer(PresetBookingSerializer):
    title = serializers.CharField(max_length=200)


class CustomWebinarSerializer(CustomBookingSerializer):
    title = serializers.CharField(max_length=200)


def by_audience(name: str, preset: type, custom: type) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name=name,
        serializers={**dict.fromkeys(AUDIENCE_PRESETS, preset), CUSTOM_PRESET: custom},
        resource_type_field_name="audience",
    )


class RegionPlanSerializer(serializers.Serializer):
    region = serializers.CharField()
    viewers = serializers.IntegerField(help_text="Forecast peak viewers in the region.")
    edges = serializers.IntegerField()
    spare_edges = serializers.IntegerField()
    relays = serializers.IntegerField()
    origins = serializers.IntegerField()
    nodes = serializers.IntegerField()


class ClusterPlanSerializer(serializers.Serializer):
    """Reads a `ClusterPlan` and the dict a booking stores of it alike."""

    capacity = serializers.IntegerField()
    total_nodes = serializers.IntegerField()
    regions = RegionPlanSerializer(many=True)


def _split_output(**kwargs: Any) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Basis points per region code (10000 = 100 %).",
        **kwargs,
    )


class QuoteSerializer(serializers.Serializer):
    package = serializers.CharField(source="request.package.code")
    price_minor = serializers.IntegerField(help_text="Net price in minor units (cents).")
    currency = serializers.CharField()
    start_at = serializers.DateTimeField(source="request.start_at", help_text="UTC.")
    duration_minutes = serializers.IntegerField(source="request.duration_minutes")
    timezone = serializers.CharField(source="request.timezone")
    audience_split = _split_output(source="request.split")
    cluster = ClusterPlanSerializer(source="plan")
    available = serializers.BooleanField()
    full_regions = serializers.ListField(child=serializers.CharField())
    refusals = serializers.ListField(
        child=serializers.CharField(),
        help_text="Other reasons the time cannot be sold, e.g. "
        '"no Event Services team free at that time".',
    )
    alternatives = serializers.ListField(
        child=serializers.DateTimeField(),
        help_text="When unavailable: up to three nearest start times that work (UTC).",
    )


class WebinarOutputSerializer(serializers.ModelSerializer):
    package = serializers.CharField(source="package.code")
    end_at = serializers.DateTimeField()
    audience_split = _split_output()
    cluster_plan = ClusterPlanSerializer()

    class Meta:
        model = Webinar
        fields = [
            "code",
            "title",
            "status",
            "package",
            "capacity",
            "price_minor",
            "currency",
            "start_at",
            "end_at",
            "duration_minutes",
            "time_zone",
            "audience_split",
            "cluster_plan",
            "hold_expires_at",
            "funds_deadline",
            "created_at",
        ]


class PackageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Package
        fields = [
            "code",
            "name",
            "capacity",
            "price_minor",
            "currency",
            "lead_time_days",
            "min_duration_minutes",
            "max_duration_minutes",
            "staff_roles",
        ]
