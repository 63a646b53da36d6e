"""Print the Celery queues a relay worker consumes, comma-separated for `celery worker -Q`:
every active region's `relays.<region>` queue, or only those named with --region."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from events.routing import region_queues
from webinars.models import Region


class Command(BaseCommand):
    help = "Print the relay queues of every active region (or of --region ...) for celery -Q."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--region", action="append", default=[], help="a region code")

    def handle(self, *args: Any, **options: Any) -> None:
        regions = options["region"] or None
        if regions:
            known = set(Region.objects.filter(code__in=regions).values_list("code", flat=True))
            unknown = sorted(set(regions) - known)
            if unknown:
                raise CommandError(f"Unknown region(s): {', '.join(unknown)}")
        self.stdout.write(",".join(region_queues(regions)))
