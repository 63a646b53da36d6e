"""Organiser invoice routes; included under /billing/ with the namespace "invoices"."""

from django.urls import path

from billing.views import invoices as views_invoices

app_name = "invoices"

urlpatterns = [
    path("invoices/<uuid:code>/pdf/", views_invoices.invoice_pdf, name="pdf"),
]
