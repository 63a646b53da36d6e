"""The one retry policy on a real task against the Stripe emulator: a refusal fails at
once (it used to be asked again eight times), Stripe out of reach is retried."""

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from billing import tasks
from billing.errors import GatewayError, GatewayUnavailable
from billing.models import StripeEvent


def _stored_event(object_id: str) -> str:
    event_id = f"evt_test_{object_id}"
    payload = {
        "id": event_id,
        "type": "checkout.session.expired",
        "created": 1,
        "data": {"object": {"id": object_id, "object": "checkout.session"}},
    }
    StripeEvent.objects.create(
        event_id=event_id,
        type=payload["type"],
        object_id=object_id,
        created=timezone.now(),
        payload=payload,
    )
    return event_id


def test_a_refusal_fails_at_once_and_is_not_retried(manual_stripe):
    """Stripe answers 404 for a session it never had: asking again changes nothing."""
    event_id = _stored_event("cs_test_never_existed")
    with pytest.raises(GatewayError) as raised:
        tasks.process_stripe_event_task.apply(kwargs={"event_id": event_id})
    assert not isinstance(raised.value, GatewayUnavailable)
    event = StripeEvent.objects.get(event_id=event_id)
    assert event.status == "failed" and event.attempts == 1


def test_stripe_out_of_reach_is_retried_until_the_retries_run_out(manual_stripe, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    event_id = _stored_event("cs_test_while_stripe_is_down")
    task = tasks.process_stripe_event_task
    with pytest.raises(Retry) as retry:
        task.apply(kwargs={"event_id": event_id})
    assert isinstance(retry.value.exc, GatewayUnavailable)
    # Full jitter draws the countdown from [0, backoff], so 0 is a legal draw.
    assert 0 <= retry.value.when <= 600  # backoff, capped at 10 minutes
    # The last retry gives up: the error itself is raised, the event stays failed for the
    # sweeper (retry-stuck-stripe-events) to queue again later.
    with pytest.raises(GatewayUnavailable):
        task.apply(kwargs={"event_id": event_id}, retries=task.max_retries)
    event = StripeEvent.objects.get(event_id=event_id)
    assert event.status == "failed" and event.attempts == 2
