from django.urls import path

from webinars import api

urlpatterns = [
    path("packages/", api.PackageListApi.as_view(), name="api-packages"),
    path("quotes/", api.QuoteApi.as_view(), name="api-quote"),
    path("webinars/", api.WebinarListCreateApi.as_view(), name="api-webinars"),
    path("webinars/<str:code>/", api.WebinarDetailApi.as_view(), name="api-webinar"),
]
