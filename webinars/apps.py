from django.apps import AppConfig


class WebinarsConfig(AppConfig):
    name = "webinars"
    verbose_name = "Webinars and fleet"

    def ready(self) -> None:
        from webinars import (
            lockout,
            tasks,  # noqa: F401 - registered in every process (webinars.jobs)
        )

        lockout.connect()
