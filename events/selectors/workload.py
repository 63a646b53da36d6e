"""The workload report of Event Services: hours of active work (assignments with their
preparation and wrap-up, and rehearsals) per person per month of a year, months in UTC."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import DateTimeField, DurationField, F, Func, Sum
from django.db.models.expressions import ExpressionWrapper
from django.db.models.functions import ExtractMonth

from events.models import Assignment, StaffMember


@dataclass(frozen=True)
class WorkloadRow:
    name: str
    hours: list[float]  # 12 months, January first

    @property
    def total(self) -> float:
        return sum(self.hours)


def _bound(function: str) -> Func:
    return Func(F("window"), function=function, output_field=DateTimeField())


def workload(year: int) -> list[WorkloadRow]:
    """Every active member (and anyone with work that year), by name."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    starts = _bound("lower")
    rows = (
        Assignment.objects.filter(status__in=Assignment.ACTIVE_STATUSES)
        .annotate(starts=starts)
        .filter(starts__gte=start, starts__lt=end)
        .annotate(month=ExtractMonth("starts", tzinfo=UTC))
        .values("staff_id", "month")
        .annotate(
            length=Sum(ExpressionWrapper(_bound("upper") - starts, output_field=DurationField()))
        )
    )
    hours: dict[int, list[float]] = {}
    for row in rows:
        months = hours.setdefault(row["staff_id"], [0.0] * 12)
        months[row["month"] - 1] = round(row["length"].total_seconds() / 3600, 2)
    members = StaffMember.objects.filter(is_active=True) | StaffMember.objects.filter(
        pk__in=list(hours)
    )
    return [
        WorkloadRow(name=m.display_name, hours=hours.get(m.pk, [0.0] * 12))
        for m in members.distinct().order_by("display_name")
    ]
