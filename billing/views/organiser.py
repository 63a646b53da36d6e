"""Organiser payment pages (thin adapters): the Payment panel of the webinar page, paying,
the return page and its status, and cancelling."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import selectors
from billing.errors import BillingError
from billing.models import Payment
from billing.services import cancellation, checkout
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
            "payment": selectors.latest_payment(webinar),
            "refund_in_flight_minor": refund_totals["in_flight"],
            "refunded_minor": refund_totals["refunded"],
            "refund_failed_minor": refund_totals["failed"],
            "invoices": selectors.issued_documents(webinar),
            "quote": cancellation.refund_quote(webinar, now=now),
            "cancellable": webinar.status in Webinar.CANCELLABLE_STATUSES,
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
    payment = selectors.latest_payment(webinar)
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
    quote = cancellation.refund_quote(webinar)
    if request.method == "POST":
        try:
            cancellation.cancel_webinar(webinar, actor=request.user)
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
