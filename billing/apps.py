from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing.views import webinar_panel
        from webinars import panels

        panels.register(webinar_panel)
