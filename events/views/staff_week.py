"""The staff calendar week view (admin look, staff with the view permission on
assignments), linked from the assignments' changelist: ?week=2027-W03&staff=<id>&role=
<role>&tz=<IANA zone>. A bad parameter answers 400 with the reason."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from events.models import StaffMember, StaffRole
from events.models.staffing import validate_time_zone
from events.selectors.staff_week import week_grid

TEMPLATE = "events/staff_week.html"


class BadParameter(ValueError):
    pass


def _week(raw: str) -> date:
    if not raw:
        today = timezone.now().date()
        return today - timedelta(days=today.weekday())
    try:
        year, _sep, number = raw.upper().partition("-W")
        if not (year.isdigit() and number.isdigit() and 2000 <= int(year) <= 2100):
            raise ValueError
        return date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise BadParameter(f"'{raw}' is not an ISO week such as 2027-W03.") from None


def _params(query: QueryDict) -> tuple[date, str, StaffMember | None, str]:
    monday = _week(query.get("week", ""))
    tz = query.get("tz", "") or "UTC"
    try:
        validate_time_zone(tz)
    except ValidationError:
        raise BadParameter(
            f"Unknown time zone '{tz}'. Use an IANA name such as Europe/Berlin."
        ) from None
    raw_staff = query.get("staff", "")
    member = None
    if raw_staff:
        member = (
            StaffMember.objects.filter(pk=int(raw_staff)).first() if raw_staff.isdigit() else None
        )
        if member is None:
            raise BadParameter(f"There is no staff member {raw_staff}.")
    role = query.get("role", "")
    if role and role not in StaffRole.values:
        raise BadParameter(f"Unknown role '{role}'; use one of {', '.join(StaffRole.values)}.")
    return monday, tz, member, role


def _link(query: QueryDict, monday: date) -> str:
    year, week, _day = monday.isocalendar()
    params = query.copy()
    params["week"] = f"{year}-W{week:02d}"
    return "?" + params.urlencode()


@staff_member_required
@require_GET
def staff_week(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("events.view_assignment"):
        raise PermissionDenied
    ctx: dict[str, object] = {
        "title": "Staff calendar",
        "members": StaffMember.objects.filter(is_active=True),
        "roles": StaffRole.choices,
    }
    try:
        monday, tz, member, role = _params(request.GET)
    except BadParameter as exc:
        return render(request, TEMPLATE, ctx | {"error": str(exc)}, status=400)
    year, week, _day = monday.isocalendar()
    zone = ZoneInfo(tz)
    days = week_grid(monday, zone, staff_id=member.pk if member else None, role=role)
    # The template's times in the viewer's zone (Django converts aware datetimes to the
    # active zone when it formats them).
    with timezone.override(zone):
        return render(
            request,
            TEMPLATE,
            ctx
            | {
                "week": f"{year}-W{week:02d}",
                "tz": tz,
                "member": member,
                "role": role,
                "days": days,
                "previous": _link(request.GET, monday - timedelta(days=7)),
                "next": _link(request.GET, monday + timedelta(days=7)),
            },
        )
