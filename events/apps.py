from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Event Services"

    def ready(self) -> None:
        from events import receivers, tasks  # noqa: F401 - tasks: registered in every process (webinars.jobs)
        from events.models import StaffMember, TimeOff
        from events.selectors.relays import cluster_cost
        from events.selectors.staffing import team_judge
        from events.services import staffing
        from events.views.attendance import attendance_panel
        from events.views.operations import operations_section
        from events.views.registrants import registration_panel
        from events.views.relays import cluster_panel
        from events.views.team import team_panel
        from webinars import admin_overview, capacity_checks, delivery_costs, panels, signals

        panels.register(cluster_panel)
        panels.register(team_panel)
        panels.register(attendance_panel)
        panels.register(registration_panel)
        delivery_costs.register(cluster_cost)
        # The admin's start page opens on the operations overview.
        admin_overview.register(operations_section)
        # Event Services staff are capacity: checked by the quote, placed in the hold's
        # transaction, confirmed and released with the booking.
        capacity_checks.register(
            capacity_checks.CapacityCheck(
                name="event-services-team",
                prepare=lambda request, span_from, span_until: team_judge(
                    request.package, request.duration_minutes, span_from, span_until
                ),
                take=staffing.assign_team,
                confirm=staffing.confirm_team,
                give_back=staffing.release_team,
            )
        )
        signals.booking_confirmed.connect(
            receivers.on_booking_confirmed, dispatch_uid="events-confirmed"
        )
        signals.booking_cancelled.connect(
            receivers.on_booking_ended_early, dispatch_uid="events-cancelled"
        )
        signals.booking_expired.connect(
            receivers.on_booking_ended_early, dispatch_uid="events-expired"
        )
        # Staff invitations: invite the team once the booking is confirmed; tell it when
        # the booking is cancelled; retry incomplete teams whenever someone becomes free.
        signals.booking_confirmed.connect(receivers.invite_team, dispatch_uid="events-invite")
        signals.booking_cancelled.connect(
            receivers.tell_team_cancelled, dispatch_uid="events-team-cancelled"
        )
        signals.booking_expired.connect(
            receivers.retry_open_roles, dispatch_uid="events-retry-expired"
        )
        post_save.connect(
            receivers.retry_open_roles, sender=StaffMember, dispatch_uid="events-retry-member"
        )
        post_delete.connect(
            receivers.retry_open_roles, sender=TimeOff, dispatch_uid="events-retry-leave"
        )
        signals.booking_completed.connect(
            receivers.on_booking_completed, dispatch_uid="events-completed"
        )
