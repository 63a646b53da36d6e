"""Organiser payment pages and the Stripe webhook endpoint (thin adapters)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import gateway, selectors
from billing.errors import BillingError
from billing.models import Invoice, Payment
from billing.services import checkout, refunds, stripe_events
from webinars.models import Webinar
from webinars.selectors import get_webinar_for_user


def webinar_panel(request: HttpRequest, webinar: Webinar) -> str:
    """The billing panel on the webinar detail page (registered in BillingConfig.ready).
    While a refund is on its way it polls `billing:panel` and replaces itself, so the
    credit note appears without a reload; once no refund is in flight it stops."""
    now = timezone.now()
    refund_totals = selectors.refund_totals(webinar)
    return render_to_string(
        "billing/_webinar_panel.html",
        {
            "webinar": webinar,
            "payment": webinar.payments.order_by("-attempt").first(),
            "refund_in_flight_minor": refund_totals["in_flight"],
            "refunded_minor": refund_totals["refunded"],
            "refund_failed_minor": refund_totals["failed"],
            "invoices": Invoice.objects.filter(
                webinar=webinar, status=Invoice.Status.ISSUED
            ).order_by("issued_at"),
            "quote": refunds.refund_quote(webinar, now=now),
            "cancellable": webinar.status
            in (Webinar.Status.HELD, Webinar.Status.AWAITING_FUNDS, Webinar.Status.CONFIRMED),
            "bank_transfer": checkout.bank_transfer_available(webinar, now),
        },
        request=request,
    )


@login_required
@require_GET
def payment_panel(request: HttpRequest, code: str) -> HttpResponse:
    """The Payment panel alone, for its own polling while a refund is in flight."""
    webinar = get_webinar_for_user(request.user, code)
    return HttpResponse(webinar_panel(request, webinar))


@login_required
@require_POST
def pay(request: HttpRequest, code: str) -> HttpResponse:
    webinar = get_webinar_for_user(request.user, code)
    try:
        payment = checkout.start_checkout(webinar, actor=request.user)
    except BillingError as exc:
        messages.error(request, exc.message)
        return redirect("webinars:detail", code=webinar.code)
    return HttpResponseRedirect(payment.checkout_url, status=303)


@login_required
def payment_return(request: HttpRequest, code: str) -> HttpResponse:
    """Where Stripe sends the organiser after paying: it only shows status; fulfilment
    comes from the webhook."""
    webinar = get_webinar_for_user(request.user, code)
    return render(request, "billing/return.html", _state_context(webinar))


@login_required
@require_GET
def payment_status(request: HttpRequest, code: str) -> HttpResponse:
    """The return page's state fragment, polled by htmx until the state is final."""
    webinar = get_webinar_for_user(request.user, code)
    return render(request, "billing/_payment_state.html", _state_context(webinar))


def _state_context(webinar: Webinar) -> dict[str, object]:
    payment = webinar.payments.order_by("-attempt").first()
    return {"webinar": webinar, "payment": payment, "state": _payment_state(webinar, payment)}


def _payment_state(webinar: Webinar, payment: Payment | None) -> str:
    if webinar.status == Webinar.Status.CONFIRMED:
        return "confirmed"
    if webinar.status == Webinar.Status.AWAITING_FUNDS:
        return "awaiting_funds"
    if payment and payment.late:
        return "refunded"
    if webinar.status in (Webinar.Status.EXPIRED, Webinar.Status.CANCELLED):
        return "released"
    return "confirming"


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, code: str) -> HttpResponse:
    webinar = get_webinar_for_user(request.user, code)
    quote = refunds.refund_quote(webinar)
    if request.method == "POST":
        try:
            refunds.cancel_webinar(webinar, actor=request.user)
        except BillingError as exc:
            messages.error(request, exc.message)
            return render(
                request,
                "billing/cancel.html",
                {"webinar": webinar, "quote": quote},
                status=exc.http_status,
            )
        messages.success(request, "Your booking is cancelled.")
        return redirect("webinars:detail", code=webinar.code)
    return render(request, "billing/cancel.html", {"webinar": webinar, "quote": quote})


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify on the raw body (400 and nothing stored otherwise), store once, answer fast."""
    try:
        event = gateway.verify_event(request.body, request.headers.get("Stripe-Signature", ""))
        stripe_events.receive_event(event)
    except BillingError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
