"""Billing's URLs, included once by config/urls.py at the site root.

Three namespaces, each under its own prefix: `billing` (an organiser paying and
cancelling, and Stripe's webhook), `invoices` (the organiser's invoice PDFs, also under
/billing/) and `finance` (the finance pages under /finance/)."""

from django.urls import include, path

from billing.views import finance, invoices, organiser, stripe_webhook

organiser_urls = [
    path("webinars/<str:code>/pay/", organiser.pay, name="pay"),
    path("webinars/<str:code>/return/", organiser.payment_return, name="return"),
    path("webinars/<str:code>/payment-status/", organiser.payment_status, name="payment_status"),
    path("webinars/<str:code>/payment-panel/", organiser.payment_panel, name="panel"),
    path("webinars/<str:code>/cancel/", organiser.cancel, name="cancel"),
    path("stripe/webhook/", stripe_webhook.stripe_webhook, name="stripe_webhook"),
]
invoice_urls = [
    path("invoices/<uuid:code>/pdf/", invoices.invoice_pdf, name="pdf"),
]
finance_urls = [
    path("", finance.revenue, name="revenue"),
    path("exports/<slug:fmt>/", finance.export_download, name="export"),
]

urlpatterns = [
    path("billing/", include((organiser_urls, "billing"))),
    path("billing/", include((invoice_urls, "invoices"))),
    path("finance/", include((finance_urls, "finance"))),
]
