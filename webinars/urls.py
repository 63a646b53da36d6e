from django.urls import path

from webinars.views import organiser as views

app_name = "webinars"

urlpatterns = [
    path("webinars/", views.dashboard, name="dashboard"),
    path("webinars/new/", views.book, name="book"),
    path("webinars/quote/", views.quote, name="quote"),
    path("webinars/<str:code>/", views.detail, name="detail"),
    path("organisation/", views.organisation, name="organisation"),
]
