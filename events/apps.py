from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Event Services"

    def ready(self) -> None:
        from events import receivers, tasks  # noqa: F401 - tasks: registered in every process (webinars.jobs)
        from events.selectors.relays import cluster_cost
        from events.selectors.staffing import team_judge
        from events.services import staffing
        from events.views.relays import cluster_panel
        from webinars import capacity_checks, delivery_costs, panels, signals

        panels.register(cluster_panel)
        delivery_costs.register(cluster_cost)
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
