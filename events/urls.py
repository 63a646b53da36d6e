from django.urls import path

from events import views

app_name = "events"
urlpatterns = [
    path("events/webinars/<str:code>/relay-panel/", views.cluster_panel_view, name="panel"),
]
