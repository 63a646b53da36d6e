from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing.receivers import on_booking_expired
        from billing.views import webinar_panel
        from webinars import panels, signals

        panels.register(webinar_panel)
        signals.booking_expired.connect(on_booking_expired, dispatch_uid="billing-expired")
