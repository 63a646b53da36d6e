from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Event Services"

    def ready(self) -> None:
        from events import receivers, tasks  # noqa: F401 - tasks: registered in every process (webinars.jobs)
        from events.selectors.relays import cluster_cost
        from events.views.registrants import registration_panel
        from events.views.relays import cluster_panel
        from webinars import delivery_costs, panels, signals

        panels.register(cluster_panel)
        panels.register(registration_panel)
        delivery_costs.register(cluster_cost)
        signals.booking_confirmed.connect(
            receivers.on_booking_confirmed, dispatch_uid="events-confirmed"
        )
        signals.booking_cancelled.connect(
            receivers.on_booking_ended_early, dispatch_uid="events-cancelled"
        )
        signals.booking_expired.connect(
            receivers.on_booking_ended_early, dispatch_uid="events-expired"
        )
