from django.urls import path

from events.views import calendars, invitations, relays, team, workload

app_name = "events"
urlpatterns = [
    path("events/webinars/<str:code>/relay-panel/", relays.cluster_panel_view, name="panel"),
    path("events/webinars/<str:code>/rehearsal/", team.book_rehearsal_view, name="book_rehearsal"),
    path(
        "events/staff/invitations/<str:token>/",
        invitations.answer_invitation,
        name="invitation",
    ),
    path("events/staff/workload/", workload.workload_report, name="staff_workload"),
    path(
        "events/staff/calendar/<str:token>.ics",
        calendars.staff_calendar_feed,
        name="staff_calendar",
    ),
]
