"""The OpenAPI description of the API beyond what drf-spectacular reads from the views:
the error shapes, every status code an operation can answer, and examples."""

from typing import Any

from drf_spectacular.authentication import BasicScheme
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers


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


def responses_for(ok: dict[int, Any], *codes: int) -> dict[int, Any]:
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
        "refusals": [],
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
