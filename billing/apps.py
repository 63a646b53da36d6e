from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # Services queue tasks by name (webinars.jobs.enqueue_on_commit): register them in
        # every process, not only in workers, which discover tasks modules themselves.
        from billing import tasks  # noqa: F401
        from billing.quote_tax import estimate_for_quote
        from billing.receivers import on_booking_expired
        from billing.views.organiser import webinar_panel
        from webinars import panels, signals, tax_estimates

        panels.register(webinar_panel)
        tax_estimates.register(estimate_for_quote)
        signals.booking_expired.connect(on_booking_expired, dispatch_uid="billing-expired")
