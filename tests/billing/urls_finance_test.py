"""The project's URLs plus the finance and invoice routes, mounted where config/urls.py
mounts them (/finance/, /billing/)."""

from django.urls import include, path

urlpatterns = [
    path("finance/", include("billing.urls_finance")),
    path("billing/", include("billing.urls_invoices")),
    path("", include("config.urls")),
]
