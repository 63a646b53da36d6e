"""REST API for organisers (one APIView per operation, nested serializers)."""

import contextlib
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from webinars import selectors, services
from webinars.errors import BookingError, DomainError
from webinars.models import Package, Webinar
from webinars.rules import AUDIENCE_PRESETS, CUSTOM_PRESET, build_request, parse_split


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain errors become 400/409 with a machine code and the user-facing message."""
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "detail": exc.message}, status=exc.http_status)
    return drf_exception_handler(exc, context)


class BookingInputSerializer(serializers.Serializer):
    package = serializers.SlugRelatedField(
        slug_field="code", queryset=Package.objects.filter(is_active=True)
    )
    start = serializers.DateTimeField(
        help_text="Local start time, without offset (e.g. 2027-03-01T15:00).",
        default_timezone=None,
    )
    timezone = serializers.CharField(max_length=64)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=1440)
    audience = serializers.ChoiceField(choices=[*AUDIENCE_PRESETS, CUSTOM_PRESET])
    split = serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=2),
        required=False,
        help_text="Percent per region code (custom).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["audience"] == CUSTOM_PRESET:
            try:
                attrs["custom_split"] = parse_split(attrs.get("split") or {})
            except BookingError as exc:
                raise serializers.ValidationError({"split": exc.message}) from exc
        return attrs

    def booking_kwargs(self) -> dict[str, Any]:
        data = self.validated_data
        start = data["start"]
        if start.tzinfo is not None:
            # An explicit offset names an instant: show it in the webinar's zone. An unknown
            # zone is left for build_request to reject with its specific error.
            with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
                start = start.astimezone(ZoneInfo(data["timezone"]))
        return {
            "package": data["package"],
            "start_local": start.replace(tzinfo=None),
            "timezone_name": data["timezone"],
            "duration_minutes": data["duration_minutes"],
            "preset": data["audience"],
            "custom_split": data.get("custom_split"),
        }


class WebinarOutputSerializer(serializers.ModelSerializer):
    package = serializers.CharField(source="package.code")
    end_at = serializers.DateTimeField()

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


class PackageListApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.ModelSerializer):
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

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(selectors.active_packages(), many=True).data)


class QuoteApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=BookingInputSerializer, responses=dict)
    def post(self, request: Request) -> Response:
        serializer = BookingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quote = selectors.quote_webinar(build_request(**serializer.booking_kwargs()))
        return Response(quote.as_dict())


class WebinarListCreateApi(APIView):
    class InputSerializer(BookingInputSerializer):
        title = serializers.CharField(max_length=200)

    @extend_schema(responses=WebinarOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        webinars = selectors.webinars_for_user(request.user)
        return Response(WebinarOutputSerializer(webinars, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: WebinarOutputSerializer})
    def post(self, request: Request) -> Response:
        organisation = selectors.organisation_for_user(request.user)
        if organisation is None:
            raise BookingError("no_organisation")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webinar = services.book_webinar(
            organisation,
            actor=request.user,
            title=serializer.validated_data["title"],
            **serializer.booking_kwargs(),
        )
        return Response(WebinarOutputSerializer(webinar).data, status=status.HTTP_201_CREATED)


class WebinarDetailApi(APIView):
    @extend_schema(responses=WebinarOutputSerializer)
    def get(self, request: Request, code: str) -> Response:
        try:
            webinar = selectors.get_webinar_for_user(request.user, code)
        except Http404:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        return Response(WebinarOutputSerializer(webinar).data)
