"""Event Services leads keep the roster in the admin and see why each person was chosen."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import StaffMember
from tests.conftest import hold
from tests.events.staffing_helpers import add_member
from webinars.models import AuditEntry, User

pytestmark = [pytest.mark.django_db, pytest.mark.own_roster]


def _inline_management(prefix: str, total: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_a_lead_adds_a_member_with_shifts_and_the_edit_is_audited(client, staff):
    person = User.objects.create_user(email="nina@megawebinar.example", is_staff=True)
    client.force_login(staff)
    form = {
        "user": str(person.pk),
        "display_name": "Nina Novak",
        "roles": ["producer", "moderator"],
        "languages": "de,en",
        "time_zone": "Europe/Berlin",
        "is_active": "on",
        **_inline_management("shifts", 1),
        "shifts-0-weekday": "0",
        "shifts-0-starts": "09:00",
        "shifts-0-ends": "17:00",
        **_inline_management("time_off"),
        **_inline_management("assignments"),
    }
    response = client.post(reverse("admin:events_staffmember_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    member = StaffMember.objects.get(display_name="Nina Novak")
    assert member.roles == ["producer", "moderator"] and member.languages == ["de", "en"]
    assert member.shifts.get().starts.hour == 9
    entry = AuditEntry.objects.get(action="staff_member.created")
    assert entry.subject_code == str(member.code) and entry.actor == staff
    assert "weekly shifts" in entry.data["changed"]
    # A zone that does not exist is refused with a clear message and nothing is saved.
    bad = client.post(
        reverse("admin:events_staffmember_add"),
        form | {"display_name": "Bad Zone", "time_zone": "Mars/Olympus"},
    )
    assert bad.status_code == 200 and "Unknown time zone" in bad.content.decode()
    assert not StaffMember.objects.filter(display_name="Bad Zone").exists()


def test_assignments_list_shows_the_reason_and_filters(client, staff, organiser, package_10k):
    add_member("Pat Producer", ["producer"])
    day = (timezone.now() + timedelta(days=10)).date()
    hold(
        organiser,
        package_10k,
        start_local=datetime(day.year, day.month, day.day, 12),
        timezone_name="UTC",
    )
    client.force_login(staff)
    page = client.get(reverse("admin:events_assignment_changelist")).content.decode()
    assert "Pat Producer" in page and "Chosen as producer from 1 free" in page
    filtered = client.get(reverse("admin:events_assignment_changelist"), {"status": "released"})
    assert "Pat Producer" not in filtered.content.decode().split('id="result_list"')[-1]
    roster = client.get(reverse("admin:events_staffmember_changelist"), {"role": "producer"})
    assert "Pat Producer" in roster.content.decode()
