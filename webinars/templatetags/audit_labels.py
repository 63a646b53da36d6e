"""`{% load audit_labels %}`: audit actions as the timeline on the detail page names them."""

from django import template

register = template.Library()

ACTION_LABELS = {
    "webinar.held": "Capacity held",
    "webinar.awaiting_funds": "Waiting for the bank transfer",
    "webinar.confirmed": "Booking confirmed",
    "webinar.live": "Webinar live",
    "webinar.completed": "Webinar completed",
    "webinar.expired": "Hold released",
    "webinar.cancelled": "Booking cancelled",
    "webinar.flagged": "Flagged for our team",
    "webinar.hold_extended": "Hold extended while you pay",
    "payment.checkout_started": "Checkout opened",
    "payment.awaiting_funds": "Bank transfer chosen",
    "payment.succeeded": "Payment received",
    "payment.failed": "Payment failed",
    "payment.expired": "Checkout expired",
    "payment.disputed": "Payment disputed",
    "refund.requested": "Refund requested",
    "refund.pending": "Refund in progress",
    "refund.succeeded": "Refund completed",
    "refund.failed": "Refund failed",
    "refund.canceled": "Refund cancelled",
    "invoice.issued": "Invoice issued",
    "invoice.emailed": "Invoice emailed",
    "credit_note.issued": "Credit note issued",
    "credit_note.emailed": "Credit note emailed",
}


@register.filter
def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace(".", " ").replace("_", " ").capitalize())
