"""Finance pages; included under /finance/ with the namespace "finance"."""

from django.urls import path

from billing.views import finance as views_finance

app_name = "finance"

urlpatterns = [
    path("", views_finance.revenue, name="revenue"),
    path("exports/<slug:fmt>/", views_finance.export_download, name="export"),
]
