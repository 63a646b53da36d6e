"""Finance reads (revenue figures for a period, organisers' own invoices) and the reads
behind payments and refunds (the paid payment of a webinar, what is refunded)."""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import (
    BigIntegerField,
    Case,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.http import Http404

from billing.models import Invoice, Payment, Refund, StripeEvent
from webinars import delivery_costs
from webinars.delivery_costs import DeliveryCost
from webinars.models import User, Webinar
from webinars.selectors import organisation_for_user

FIGURES = ("invoiced", "credited", "collected", "refunded", "recognised", "deferred")
# A webinar's obligation is settled once it was delivered or cancelled.
SETTLED_STATUSES = (Webinar.Status.COMPLETED, Webinar.Status.CANCELLED)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, the day after end 00:00 UTC): the period's instants."""
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def revenue_for_period(start: date, end: date) -> dict[str, dict[str, int]]:
    """Finance figures for the period [start, end] (inclusive, UTC days), per currency,
    in minor units:

    - invoiced: gross of invoices issued in the period;
    - credited: gross of credit notes issued in the period;
    - collected: gross of payments paid in the period (later refunds do not undo it);
    - refunded: succeeded refunds created in the period;
    - recognised: net revenue earned in the period: net of invoices minus net of credit
      notes (issued by the period's end) for webinars *settled* in the period. A webinar
      is settled when its status is completed (delivered) or cancelled (whatever was not
      refunded is kept), on the date of its scheduled end (start + duration): we do not
      store completion times, and the scheduled end is what the contract promised;
    - deferred: the same net for webinars not settled by the period's end (paid for,
      not yet delivered), as of the period's end.

    Net is VAT-exclusive; VAT is owed to tax authorities, never revenue. Figures read the
    webinars' current status, so a past period is restated if a webinar is completed late.
    """
    since, until = day_bounds(start, end)
    figures: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    issued = Invoice.objects.filter(status=Invoice.Status.ISSUED).order_by()
    for currency, kind, total in (
        issued.filter(issue_date__gte=start, issue_date__lte=end)
        .values_list("currency", "kind")
        .annotate(total=Sum("gross_minor"))
    ):
        key = "credited" if kind == Invoice.Kind.CREDIT_NOTE else "invoiced"
        figures[currency][key] += total
    for currency, total in (
        Payment.objects.filter(
            status__in=Payment.PAID_STATUSES, paid_at__gte=since, paid_at__lt=until
        )
        .order_by()
        .values_list("currency")
        .annotate(total=Sum("amount_minor"))
    ):
        figures[currency]["collected"] += total
    for currency, total in (
        Refund.objects.filter(
            status=Refund.Status.SUCCEEDED, created_at__gte=since, created_at__lt=until
        )
        .order_by()
        .values_list("currency")
        .annotate(total=Sum("amount_minor"))
    ):
        figures[currency]["refunded"] += total
    signed_net = Case(
        When(kind=Invoice.Kind.CREDIT_NOTE, then=-F("net_minor")),
        default=F("net_minor"),
        output_field=BigIntegerField(),
    )
    minutes = ExpressionWrapper(
        F("webinar__duration_minutes") * Value(timedelta(minutes=1)), output_field=DurationField()
    )
    webinar_end = ExpressionWrapper(F("webinar__start_at") + minutes, output_field=DateTimeField())
    settled_by_end = Q(webinar__status__in=SETTLED_STATUSES, webinar_end__lt=until)
    for currency, recognised, deferred in (
        issued.filter(issue_date__lte=end)
        .annotate(webinar_end=webinar_end)
        .values_list("currency")
        .annotate(
            recognised=Sum(
                signed_net,
                filter=settled_by_end & Q(webinar_end__gte=since),
                default=0,
                output_field=BigIntegerField(),
            ),
            deferred=Sum(
                signed_net, filter=~settled_by_end, default=0, output_field=BigIntegerField()
            ),
        )
    ):
        figures[currency]["recognised"] += recognised
        figures[currency]["deferred"] += deferred
    return {currency: figures[currency] for currency in sorted(figures)}


@dataclass(frozen=True)
class DeliveredWebinar:
    """A webinar delivered in a period: its net revenue (invoices less credit notes) and,
    where delivery reported one, what delivering it cost (`webinars.delivery_costs`)."""

    webinar: Webinar
    revenue_minor: int
    cost: DeliveryCost | None

    @property
    def margin_minor(self) -> int | None:
        return None if self.cost is None else self.revenue_minor - self.cost.minor

    @property
    def margin_bp(self) -> int | None:
        """The margin in basis points of the revenue (integer, rounded toward zero)."""
        if self.margin_minor is None or not self.revenue_minor:
            return None
        return self.margin_minor * 10_000 // self.revenue_minor


def delivered_webinars(start: date, end: date, *, limit: int = 500) -> list[DeliveredWebinar]:
    """Webinars completed whose scheduled end falls in [start, end] (the moment their
    revenue is recognised), earliest first, with revenue and delivery cost."""
    since, until = day_bounds(start, end)
    minutes = ExpressionWrapper(
        F("duration_minutes") * Value(timedelta(minutes=1)), output_field=DurationField()
    )
    signed_net = Case(
        When(invoices__kind=Invoice.Kind.CREDIT_NOTE, then=-F("invoices__net_minor")),
        default=F("invoices__net_minor"),
        output_field=BigIntegerField(),
    )
    webinars = (
        Webinar.objects.filter(status=Webinar.Status.COMPLETED)
        .annotate(ends=ExpressionWrapper(F("start_at") + minutes, output_field=DateTimeField()))
        .filter(ends__gte=since, ends__lt=until)
        .annotate(
            revenue=Sum(
                signed_net,
                filter=Q(invoices__status=Invoice.Status.ISSUED),
                default=0,
                output_field=BigIntegerField(),
            )
        )
        .select_related("organisation")
        .order_by("ends", "pk")[:limit]
    )
    return [DeliveredWebinar(w, w.revenue, delivery_costs.cost_of(w)) for w in webinars]


def invoices_for_user(user: User) -> QuerySet[Invoice]:
    """An organiser's issued invoices and credit notes (their organisation's only)."""
    organisation = organisation_for_user(user)
    if organisation is None:
        return Invoice.objects.none()
    return (
        Invoice.objects.filter(organisation=organisation, status=Invoice.Status.ISSUED)
        .select_related("webinar", "refers_to")
        .order_by("-issue_date", "-number")
    )


def get_invoice_for_user(user: User, code: str | uuid.UUID) -> Invoice:
    """The one fetch of an invoice by code: 404 for other organisations' documents (and
    malformed codes), so a response never reveals that a code exists."""
    try:
        return invoices_for_user(user).get(code=uuid.UUID(str(code)))
    except (ValueError, Invoice.DoesNotExist) as exc:
        raise Http404("No such invoice.") from exc


REFUND_IN_FLIGHT = (Refund.Status.REQUESTED, Refund.Status.PENDING)


def refund_totals(webinar: Webinar) -> dict[str, int]:
    """Minor units refunded for a webinar, by state: `in_flight` (asked of Stripe, not
    settled: the Payment panel polls while it is not 0), `refunded` and `failed`."""

    def total(condition: Q) -> Sum:
        return Sum("amount_minor", filter=condition, default=0)

    return Refund.objects.filter(payment__webinar=webinar).aggregate(
        in_flight=total(Q(status__in=REFUND_IN_FLIGHT)),
        refunded=total(Q(status=Refund.Status.SUCCEEDED)),
        failed=total(Q(status=Refund.Status.FAILED)),
    )


def paid_payment(webinar: Webinar) -> Payment | None:
    return (
        webinar.payments.filter(status__in=Payment.REFUNDABLE_STATUSES, late=False)
        .order_by("-paid_at")
        .first()
    )


def in_flight_minor(payment: Payment) -> int:
    """Refunded or on its way back: every refund that has not failed or been cancelled."""
    return (
        payment.refunds.exclude(
            status__in=(Refund.Status.FAILED, Refund.Status.CANCELED)
        ).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )


def latest_payment(webinar: Webinar) -> Payment | None:
    """The webinar's latest checkout attempt (the one its pages describe)."""
    return webinar.payments.order_by("-attempt").first()


def issued_documents(webinar: Webinar) -> QuerySet[Invoice]:
    """The webinar's issued invoices and credit notes, oldest first (its Payment panel)."""
    return Invoice.objects.filter(webinar=webinar, status=Invoice.Status.ISSUED).order_by(
        "issued_at"
    )


def open_checkout_ids(webinar: Webinar) -> list[int]:
    """The webinar's payments whose Checkout Session may still be open at Stripe."""
    return list(
        webinar.payments.filter(
            status__in=(Payment.Status.OPEN,), checkout_session_id__isnull=False
        ).values_list("pk", flat=True)
    )


def stuck_event_ids(now: datetime) -> list[str]:
    """Stripe events to queue again (at most 200 a sweep): failed, with attempts left, or
    stored over 2 minutes ago and never processed (their queueing was lost)."""
    stale = now - timedelta(minutes=2)
    return list(
        StripeEvent.objects.filter(
            Q(status=StripeEvent.Status.FAILED, attempts__lt=10)
            | Q(status=StripeEvent.Status.RECEIVED, received_at__lt=stale)
        ).values_list("event_id", flat=True)[:200]
    )


def _never_submitted(now: datetime, older_than: timedelta) -> QuerySet[Refund]:
    return Refund.objects.filter(
        status=Refund.Status.REQUESTED, stripe_id__isnull=True, created_at__lt=now - older_than
    )


def stuck_refund_ids(now: datetime) -> list[int]:
    """Refunds to submit again (at most 200 a sweep): recorded over 10 minutes ago and
    never accepted by Stripe."""
    return list(_never_submitted(now, timedelta(minutes=10)).values_list("pk", flat=True)[:200])


def refunds_stuck_for_a_day(now: datetime) -> QuerySet[Refund]:
    """Refunds Stripe has not accepted for a day: finance must hear of them."""
    return _never_submitted(now, timedelta(days=1)).select_related("payment__webinar")
