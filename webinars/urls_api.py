from django.urls import path, re_path

from webinars.api import views as api

urlpatterns = [
    path("packages/", api.PackageListApi.as_view(), name="api-packages"),
    path("quotes/", api.QuoteApi.as_view(), name="api-quote"),
    path("webinars/", api.WebinarListCreateApi.as_view(), name="api-webinars"),
    path("webinars/<str:code>/", api.WebinarDetailApi.as_view(), name="api-webinar"),
    # Last: every other path under the API answers a JSON 404.
    re_path(r"", api.NotFoundApi.as_view(), name="api-not-found"),
]
