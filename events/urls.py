from django.urls import path

from events.views import registrants, registration, relays

app_name = "events"
urlpatterns = [
    path("events/webinars/<str:code>/relay-panel/", relays.cluster_panel_view, name="panel"),
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
