"""REST API for organisers (one APIView per operation, nested serializers).

Besides the views: the exception handler that gives every error one shape, and the OpenAPI
description of each status code an operation can return. The parser, authentication and
throttles are in webinars.api_guards.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from drf_spectacular.authentication import BasicScheme
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, serializers, status, throttling
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from webinars import selectors, services
from webinars.api.guards import AnonQuoteThrottle
from webinars.errors import BookingError, DomainError
from webinars.models import Package, Webinar
from webinars.rules import AUDIENCE_PRESETS, CUSTOM_PRESET, build_request, parse_split


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error but a validation error answers `{"code", "detail"}`: domain errors
    with their rule's code and 400/409, DRF's own (401, 403, 404, 415, 429...) with DRF's
    code. Validation errors keep DRF's `{"field": ["message"]}` shape."""
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "detail": exc.message}, status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django's own 400 for it is an HTML page.
        exc = exceptions.ParseError(
            f"JSON parse error - body over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    response = drf_exception_handler(exc, context)
    if (
        response is not None
        and isinstance(exc, exceptions.APIException)
        and not isinstance(exc, exceptions.ValidationError)
    ):
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        response.data = {"code": str(code), "detail": str(detail)}
    return response


# --- Serializers ---------------------------------------------------------------------------

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
        data = self.validated_data
        return {
            "package": data["package"],
            "start_local": data["start"],
            "timezone_name": data["timezone"],
            "duration_minutes": data["duration_minutes"],
            "preset": data["audience"],
            "custom_split": data.get("custom_split"),
        }


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


def _by_audience(name: str, preset: type, custom: type) -> PolymorphicProxySerializer:
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


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable reason: a booking rule (split_sum, lead_time, "
        "no_capacity...) or DRF's (parse_error, not_authenticated, not_found, throttled...)."
    )
    detail = serializers.CharField(help_text="What went wrong, written for a person.")


class ValidationErrorSerializer(serializers.Serializer):
    """DRF's validation error: messages per field (per key for `split`)."""


class _ValidationErrorSchema(OpenApiSerializerExtension):
    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        messages = {"type": "array", "items": {"type": "string"}}
        return {
            "type": "object",
            "description": "Messages per input field; `non_field_errors` for the body.",
            "additionalProperties": {
                "oneOf": [messages, {"type": "object", "additionalProperties": messages}]
            },
        }


class _BasicAuthScheme(BasicScheme):
    target_class = "webinars.api.guards.BasicAuthentication"


# --- OpenAPI: every status an operation can answer -----------------------------------------


def _example(name: str, value: Any) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True)


BAD_REQUEST = OpenApiResponse(
    response=PolymorphicProxySerializer(
        component_name="BadRequest",
        serializers=[ErrorSerializer, ValidationErrorSerializer],
        resource_type_field_name=None,
    ),
    description="The input breaks a rule: `{code, detail}` for a booking rule or an "
    "unreadable body, messages per field for a field that is missing or malformed. "
    "Nothing is written.",
    examples=[
        _example(
            "Booking rule",
            {
                "code": "split_sum",
                "detail": "The audience split must add up to 100% (it adds up to 90%).",
            },
        ),
        _example("Field errors", {"start": ["Datetime has wrong format."]}),
    ],
)
ERRORS: dict[int, OpenApiResponse] = {
    401: OpenApiResponse(
        ErrorSerializer,
        description="Credentials missing or wrong; the answer carries `WWW-Authenticate`.",
        examples=[
            _example(
                "Wrong password",
                {"code": "authentication_failed", "detail": "Invalid username/password."},
            )
        ],
    ),
    403: OpenApiResponse(
        ErrorSerializer,
        description="Signed in with the session cookie but without the CSRF token.",
        examples=[
            _example(
                "CSRF",
                {"code": "permission_denied", "detail": "CSRF Failed: CSRF token missing."},
            )
        ],
    ),
    404: OpenApiResponse(
        ErrorSerializer,
        description="No such webinar in your organisation.",
        examples=[_example("Not found", {"code": "not_found", "detail": "Not found."})],
    ),
    409: OpenApiResponse(
        ErrorSerializer,
        description="The fleet is fully booked at that time; nothing was held.",
        examples=[
            _example(
                "Fully booked",
                {
                    "code": "no_capacity",
                    "detail": "That time is no longer available: the relay fleet in "
                    "us-east is fully booked then.",
                },
            )
        ],
    ),
    415: OpenApiResponse(
        ErrorSerializer,
        description="The body is not application/json.",
        examples=[
            _example(
                "Form body",
                {
                    "code": "unsupported_media_type",
                    "detail": 'Unsupported media type "text/plain" in request.',
                },
            )
        ],
    ),
    429: OpenApiResponse(
        ErrorSerializer,
        description="Too many requests; `Retry-After` says how many seconds to wait.",
        examples=[
            _example(
                "Throttled",
                {
                    "code": "throttled",
                    "detail": "Request was throttled. Expected available in 42 seconds.",
                },
            )
        ],
    ),
}


def _responses(ok: dict[int, Any], *codes: int) -> dict[int, Any]:
    errors = {code: BAD_REQUEST if code == 400 else ERRORS[code] for code in codes}
    return ok | errors


_BOOKING = {
    "package": "100k",
    "start": "2027-03-01T15:00",
    "timezone": "Europe/Paris",
    "duration_minutes": 120,
}
REQUEST_EXAMPLES = [
    OpenApiExample("Preset audience", value=_BOOKING | {"audience": "europe"}, request_only=True),
    OpenApiExample(
        "Custom split",
        value=_BOOKING | {"audience": "custom", "split": {"eu-west": "60", "us-east": "40"}},
        request_only=True,
    ),
]
_PLAN = {
    "capacity": 10000,
    "total_nodes": 13,
    "regions": [
        {
            "region": "us-east",
            "viewers": 10000,
            "edges": 10,
            "spare_edges": 1,
            "relays": 0,
            "origins": 2,
            "nodes": 13,
        }
    ],
}
QUOTE_EXAMPLE = _example(
    "Available",
    {
        "package": "10k",
        "price_minor": 900000,
        "currency": "USD",
        "start_at": "2027-03-01T14:00:00Z",
        "duration_minutes": 90,
        "timezone": "Europe/Paris",
        "audience_split": {"us-east": 10000},
        "cluster": _PLAN,
        "available": True,
        "full_regions": [],
        "alternatives": [],
    },
)
WEBINAR_EXAMPLE = _example(
    "Held",
    {
        "code": "W-7KQ2MZXC",
        "title": "Launch keynote",
        "status": "held",
        "package": "10k",
        "capacity": 10000,
        "price_minor": 900000,
        "currency": "USD",
        "start_at": "2027-03-01T14:00:00Z",
        "end_at": "2027-03-01T15:30:00Z",
        "duration_minutes": 90,
        "time_zone": "Europe/Paris",
        "audience_split": {"us-east": 10000},
        "cluster_plan": _PLAN,
        "hold_expires_at": "2026-11-26T10:30:00Z",
        "funds_deadline": None,
        "created_at": "2026-11-26T10:00:00Z",
    },
)


# --- Views ---------------------------------------------------------------------------------


class PackageListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The package catalogue (public)",
        responses=_responses({200: PackageSerializer(many=True)}, 401, 429),
    )
    def get(self, request: Request) -> Response:
        return Response(PackageSerializer(selectors.active_packages(), many=True).data)


class QuoteApi(APIView):
    permission_classes = [AllowAny]

    def get_throttles(self) -> list[throttling.BaseThrottle]:
        return [*super().get_throttles(), AnonQuoteThrottle()]

    @extend_schema(
        summary="Price, relay cluster and availability for a booking (public)",
        request=_by_audience("BookingRequest", PresetBookingSerializer, CustomBookingSerializer),
        examples=REQUEST_EXAMPLES,
        responses=_responses(
            {200: OpenApiResponse(QuoteSerializer, examples=[QUOTE_EXAMPLE])},
            400,
            401,
            403,
            415,
            429,
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = BookingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quote = selectors.quote_webinar(build_request(**serializer.booking_kwargs()))
        return Response(QuoteSerializer(quote).data)


class WebinarListCreateApi(APIView):
    @extend_schema(
        summary="Your organisation's webinars",
        responses=_responses({200: WebinarOutputSerializer(many=True)}, 401, 429),
    )
    def get(self, request: Request) -> Response:
        webinars = selectors.webinars_for_user(request.user)
        return Response(WebinarOutputSerializer(webinars, many=True).data)

    @extend_schema(
        summary="Hold capacity for a webinar (pay within the hold time)",
        request=_by_audience("WebinarRequest", PresetWebinarSerializer, CustomWebinarSerializer),
        examples=[
            OpenApiExample(e.name, value=e.value | {"title": "Launch keynote"}, request_only=True)
            for e in REQUEST_EXAMPLES
        ],
        responses=_responses(
            {201: OpenApiResponse(WebinarOutputSerializer, examples=[WEBINAR_EXAMPLE])},
            400,
            401,
            403,
            409,
            415,
            429,
        ),
    )
    def post(self, request: Request) -> Response:
        organisation = selectors.organisation_for_user(request.user)
        if organisation is None:
            raise BookingError("no_organisation")
        serializer = WebinarInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webinar = services.book_webinar(
            organisation,
            actor=request.user,
            title=serializer.validated_data["title"],
            **serializer.booking_kwargs(),
        )
        return Response(WebinarOutputSerializer(webinar).data, status=status.HTTP_201_CREATED)


class WebinarDetailApi(APIView):
    @extend_schema(
        summary="One of your organisation's webinars",
        responses=_responses(
            {200: OpenApiResponse(WebinarOutputSerializer, examples=[WEBINAR_EXAMPLE])},
            401,
            404,
            429,
        ),
    )
    def get(self, request: Request, code: str) -> Response:
        webinar = selectors.get_webinar_for_user(request.user, code)
        return Response(WebinarOutputSerializer(webinar).data)


class NotFoundApi(APIView):
    """Any other path under /api/v1/: a JSON 404 like the rest of the API, not the HTML
    page (a webinar code holding a slash lands here too)."""

    permission_classes = [AllowAny]
    schema = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound()
