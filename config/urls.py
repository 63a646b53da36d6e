from django.contrib import admin
from django.templatetags.static import static as static_url
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

# Each app is included once, at the root; its urls.py names its own prefixes.
# MEDIA_ROOT is never served, not even with DEBUG on: it holds invoices, which leave only
# through the permission-checked download views (billing/views/invoices.py, the admin).
urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Browsers ask for /favicon.ico on every page that names none (API docs, PDFs, files).
    path("favicon.ico", RedirectView.as_view(url=static_url("webinars/favicon.svg"))),
    # events first: its join path (/j/...) is the hottest route, and Django tries the
    # patterns in order.
    path("", include("events.urls")),
    path("", include("billing.urls")),
    path("", include("webinars.urls")),
]
