from django.urls import path

from events.views import attendance, calendars, invitations, join, relays, team, workload

app_name = "events"
urlpatterns = [
    # The join path (no SQL, no session: see events/views/join.py), first: a flash crowd
    # of joins should not be matched against every other pattern before its own.
    path("j/<str:token>/", join.join_page, name="join"),
    path("j/<str:token>/seat", join.join_seat, name="join_seat"),
    path("j/<str:token>/heartbeat", join.join_heartbeat, name="join_heartbeat"),
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
    path(
        "events/webinars/<str:code>/attendance-panel/",
        attendance.attendance_panel_view,
        name="attendance_panel",
    ),
    path(
        "events/webinars/<str:code>/attendance/",
        attendance.attendance_page,
        name="attendance",
    ),
    path(
        "events/webinars/<str:code>/attendance.csv",
        attendance.attendance_csv,
        name="attendance_csv",
    ),
]
