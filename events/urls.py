from django.urls import path

from events.views import (
    attendance,
    calendars,
    invitations,
    join,
    operations,
    registrants,
    registration,
    relays,
    staff_week,
    team,
    workload,
)

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
    path("events/staff/calendar/week/", staff_week.staff_week, name="staff_week"),
    path("events/staff/operations/", operations.operations_page, name="operations"),
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
    # Public registration (no login).
    path("r/<str:code>/", registration.register, name="register"),
    path("r/<str:code>/resend/", registration.resend, name="resend"),
    # The organiser's registration pages.
    path(
        "events/webinars/<str:code>/registration/open/",
        registrants.open_registration,
        name="registration_open",
    ),
    path(
        "events/webinars/<str:code>/registration/close/",
        registrants.close_registration,
        name="registration_close",
    ),
    path(
        "events/webinars/<str:code>/registration/send-links/",
        registrants.send_links,
        name="send_links",
    ),
    path(
        "events/webinars/<str:code>/registrants/", registrants.registrant_list, name="registrants"
    ),
    path(
        "events/webinars/<str:code>/registrants/delete/",
        registrants.delete_registrant,
        name="registrant_delete",
    ),
    path(
        "events/webinars/<str:code>/registrants/import/",
        registrants.import_invitees,
        name="import_invitees",
    ),
    path("events/imports/<uuid:import_code>/", registrants.import_result, name="import"),
]
