"""Finance's tool: payments, refunds, disputes, Stripe events and customers, invoices and
credit notes, all read-only. Issued documents are never changed or deleted here; the
actions call services (issue an invoice, issue credit notes, redo delivery). Amounts read
as money, rates as percentages, and times carry their zone (UTC)."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from billing import pdf, tasks
from billing.models import (
    Dispute,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    Refund,
    StripeCustomer,
    StripeEvent,
)
from billing.services import cancellation, invoicing
from webinars.admin.base import (
    ReadOnlyAdmin,
    ReadOnlyMixin,
    apply_to_each,
    money_display,
    readable_fields,
)
from webinars.admin_actions import register_webinar_action
from webinars.formatting import format_money
from webinars.models import Webinar

_amount = money_display("amount_minor", "amount")


@admin.display(description="payment", ordering="payment__webinar__code")
def _payment_label(obj: Any) -> str:
    """A payment as people name it: its booking and attempt (foreign-key columns would not
    wrap, which pushes the list past a 1280 px screen)."""
    payment = getattr(obj, "payment", obj)
    return f"{payment.webinar.code} #{payment.attempt}"


@admin.display(description="organisation", ordering="organisation__legal_name")
def _organisation_name(obj: Any) -> str:
    return obj.organisation.legal_name


class InvoiceLineInline(ReadOnlyMixin, admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = readonly_fields = [
        f
        for f in readable_fields(InvoiceLine, currency=lambda line: line.invoice.currency)
        if f != "invoice"
    ]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "kind",
        "status",
        "buyer_name",
        "gross",
        "issue_date",
        "emailed_at",
        "pdf_link",
    ]
    list_filter = ["kind", "status", "currency", "issue_date", "tax_treatment"]
    search_fields = [
        "number",
        "buyer__legal_name",
        "buyer__vat_id",
        "organisation__legal_name",
        "webinar__code",
    ]
    date_hierarchy = "issue_date"
    list_select_related = ["webinar"]
    # The stored file is shown through `pdf_link` (a checked view), never as a media URL.
    fields = readonly_fields = [
        *(f for f in readable_fields(Invoice) if f != "pdf"),
        "pdf_link",
    ]
    inlines = [InvoiceLineInline]
    actions = ["deliver"]

    @admin.display(description="buyer", ordering="organisation__legal_name")
    def buyer_name(self, obj: Invoice) -> str:
        return obj.buyer.get("legal_name", "")

    @admin.display(description="gross", ordering="gross_minor")
    def gross(self, obj: Invoice) -> str:
        return format_money(obj.sign * obj.gross_minor, obj.currency)

    @admin.display(description="PDF")
    def pdf_link(self, obj: Invoice) -> str:
        if obj.pk is None or obj.status != Invoice.Status.ISSUED:
            return "—"
        return format_html(
            '<a href="{}">{}.pdf</a>',
            reverse("admin:billing_invoice_pdf", args=[obj.pk]),
            obj.number,
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.pdf_view)
        return [path("<int:pk>/pdf/", view, name="billing_invoice_pdf"), *super().get_urls()]

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = get_object_or_404(Invoice, pk=pk, status=Invoice.Status.ISSUED)
        if not self.has_view_permission(request, invoice):
            return HttpResponse(status=403)
        response = HttpResponse(pdf.ensure_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response

    @admin.action(
        description="Render missing PDFs and email unsent documents", permissions=["view"]
    )
    def deliver(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        ids = list(queryset.filter(status=Invoice.Status.ISSUED).values_list("pk", flat=True))
        for invoice_id in ids:
            tasks.render_and_email_invoice_task.delay(invoice_id=invoice_id)
        messages.success(request, f"Queued delivery of {len(ids)} document(s).")


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(ReadOnlyAdmin):
    list_display = ["series", "year", "next_value"]
    list_filter = ["series", "year"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        _payment_label,
        _organisation_name,
        "status",
        "method",
        _amount,
        "paid_at",
        "late",
    ]
    list_display_links = [_payment_label]
    list_filter = ["status", "currency", "method", "late", "created_at"]
    search_fields = [
        "code",
        "payment_intent_id",
        "checkout_session_id",
        "charge_id",
        "webinar__code",
        "organisation__legal_name",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["webinar", "organisation"]
    fields = readonly_fields = readable_fields(Payment)
    actions = ["issue_invoices"]

    def has_issue_invoice_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.add_invoice")

    @admin.action(
        description="Issue the invoice of paid payments (if missing)", permissions=["issue_invoice"]
    )
    def issue_invoices(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        apply_to_each(
            request,
            queryset,
            lambda payment: str(invoicing.issue_invoice(payment, actor=request.user).number),
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "code",
        _payment_label,
        _amount,
        "status",
        "reason",
        "created_at",
        "credit_note_number",
    ]
    list_filter = ["status", "reason", "currency", "created_at"]
    search_fields = ["code", "stripe_id", "payment__code", "payment__webinar__code"]
    date_hierarchy = "created_at"
    list_select_related = ["payment__webinar", "credit_note"]
    fields = readonly_fields = readable_fields(Refund)
    actions = ["issue_credit_notes"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # "change" unlocks the actions on the list; a refund's own page stays read-only.
        return obj is None and request.user.has_perm("billing.change_refund")

    @admin.display(description="credit note")
    def credit_note_number(self, obj: Refund) -> str:
        note = getattr(obj, "credit_note", None)
        return note.number if note is not None else "—"

    @admin.action(
        description="Issue credit notes for made refunds (if missing)", permissions=["change"]
    )
    def issue_credit_notes(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        apply_to_each(
            request,
            queryset,
            lambda refund: str(invoicing.issue_credit_note(refund, actor=request.user).number),
        )


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", _payment_label, _amount, "reason", "status", "created_at"]
    list_select_related = ["payment__webinar"]
    list_filter = ["status", "currency", "created_at"]
    search_fields = ["stripe_id", "payment__code", "payment__webinar__code"]
    fields = readonly_fields = readable_fields(Dispute)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "object_id", "status", "attempts", "received_at"]
    list_filter = ["status", "type", "received_at"]
    search_fields = ["event_id", "object_id"]
    date_hierarchy = "received_at"
    fields = readonly_fields = readable_fields(StripeEvent)


@admin.register(StripeCustomer)
class StripeCustomerAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", _organisation_name, "created_at"]
    list_filter = ["created_at"]
    search_fields = ["stripe_id", "organisation__legal_name"]
    list_select_related = ["organisation"]
    fields = readonly_fields = readable_fields(StripeCustomer)


# Billing's action on the webinar list, through the webinars admin's hook.
@register_webinar_action
@admin.action(description="Cancel selected webinars and refund them in full")
def cancel_and_refund(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Webinar]
) -> None:
    """Event Services cancel (our decision): the organiser gets everything back."""

    def cancel(webinar: Webinar) -> str:
        _, refund = cancellation.cancel_webinar(webinar, actor=request.user, by_staff=True)
        if refund is None:
            return "cancelled, nothing to refund"
        return f"cancelled, refund of {format_money(refund.amount_minor, refund.currency)}"

    apply_to_each(request, queryset, cancel)
