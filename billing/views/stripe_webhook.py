"""Stripe's webhook endpoint: the only view Stripe calls. It verifies the signature on the
raw body and stores the event (billing.services.stripe_events); processing happens in a
task, so the answer is fast and a duplicate delivery costs one INSERT."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import gateway
from billing.errors import BillingError
from billing.services import stripe_events


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
