"""REST API views for organisers: one APIView per operation, and the exception handler
that gives every error one shape. Serializers are in webinars.api.serializers, the OpenAPI
description of each status code in webinars.api.schema, and the parser, authentication
and throttles in webinars.api.guards.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, throttling
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from webinars import selectors, services
from webinars.api.guards import AnonQuoteThrottle
from webinars.api.schema import QUOTE_EXAMPLE, REQUEST_EXAMPLES, WEBINAR_EXAMPLE, responses_for
from webinars.api.serializers import (
    BookingInputSerializer,
    CustomBookingSerializer,
    CustomWebinarSerializer,
    PackageSerializer,
    PresetBookingSerializer,
    PresetWebinarSerializer,
    QuoteSerializer,
    WebinarInputSerializer,
    WebinarOutputSerializer,
    by_audience,
)
from webinars.errors import BookingError, DomainError
from webinars.rules import build_request


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


class PackageListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The package catalogue (public)",
        responses=responses_for({200: PackageSerializer(many=True)}, 401, 429),
    )
    def get(self, request: Request) -> Response:
        return Response(PackageSerializer(selectors.active_packages(), many=True).data)


class QuoteApi(APIView):
    permission_classes = [AllowAny]

    def get_throttles(self) -> list[throttling.BaseThrottle]:
        return [*super().get_throttles(), AnonQuoteThrottle()]

    @extend_schema(
        summary="Price, relay cluster and availability for a booking (public)",
        request=by_audience("BookingRequest", PresetBookingSerializer, CustomBookingSerializer),
        examples=REQUEST_EXAMPLES,
        responses=responses_for(
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
        responses=responses_for({200: WebinarOutputSerializer(many=True)}, 401, 429),
    )
    def get(self, request: Request) -> Response:
        webinars = selectors.webinars_for_user(request.user)
        return Response(WebinarOutputSerializer(webinars, many=True).data)

    @extend_schema(
        summary="Hold capacity for a webinar (pay within the hold time)",
        request=by_audience("WebinarRequest", PresetWebinarSerializer, CustomWebinarSerializer),
        examples=[
            OpenApiExample(e.name, value=e.value | {"title": "Launch keynote"}, request_only=True)
            for e in REQUEST_EXAMPLES
        ],
        responses=responses_for(
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
        responses=responses_for(
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
