from django.urls import path

from events.views import relays

app_name = "events"
urlpatterns = [
    path("events/webinars/<str:code>/relay-panel/", relays.cluster_panel_view, name="panel"),
]
