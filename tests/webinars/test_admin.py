from django.urls import reverse

from tests.conftest import hold
from webinars.models import AuditEntry, FleetSlot, Region


def test_staff_browse_webinars_with_filters_and_search(client, staff, organiser, package_10k):
    webinar = hold(organiser, package_10k, title="Searchable summit")
    client.force_login(staff)
    url = reverse("admin:webinars_webinar_changelist")
    assert webinar.code in client.get(url, {"status__exact": "held"}).content.decode()
    assert webinar.code not in client.get(url, {"status__exact": "confirmed"}).content.decode()
    assert webinar.code in client.get(url, {"q": "Acme"}).content.decode()
    assert (
        client.get(reverse("admin:webinars_webinar_change", args=[webinar.pk])).status_code == 200
    )


def test_ledger_and_audit_log_are_read_only(client, staff, organiser, package_10k):
    hold(organiser, package_10k)
    client.force_login(staff)
    assert client.get(reverse("admin:webinars_fleetslot_changelist")).status_code == 200
    slot = FleetSlot.objects.first()
    response = client.post(
        reverse("admin:webinars_fleetslot_change", args=[slot.pk]), {"used": 0, "capacity": 1}
    )
    assert response.status_code == 403
    entry = AuditEntry.objects.first()
    assert (
        client.post(
            reverse("admin:webinars_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_fleet_size_edit_in_admin_goes_through_the_service(client, staff, organiser, package_10k):
    hold(organiser, package_10k)
    region = Region.objects.get(code="us-east")
    client.force_login(staff)
    url = reverse("admin:webinars_region_change", args=[region.pk])
    data = {
        "code": "us-east",
        "name": region.name,
        "latitude": region.latitude,
        "longitude": region.longitude,
        "fleet_size": 5,
        "sort_order": 0,
        "is_active": "on",
    }
    client.post(url, data, follow=True)
    region.refresh_from_db()
    assert region.fleet_size == 1200  # refused: 13 nodes are committed
    client.post(url, data | {"fleet_size": 800}, follow=True)
    region.refresh_from_db()
    assert region.fleet_size == 800
    assert set(FleetSlot.objects.values_list("capacity", flat=True)) == {800}


def test_staff_can_release_a_hold(client, staff, organiser, package_10k):
    webinar = hold(organiser, package_10k)
    client.force_login(staff)
    client.post(
        reverse("admin:webinars_webinar_changelist"),
        {"action": "expire_selected_holds", "_selected_action": [webinar.pk]},
    )
    webinar.refresh_from_db()
    assert webinar.status == "expired"
    assert AuditEntry.objects.get(action="webinar.expired").actor == staff


def test_event_services_group_runs_the_calendar_but_not_finance(client, organiser, package_10k):
    from django.contrib.auth.models import Group

    from webinars.models import User

    member = User.objects.create_user(
        email="es@megawebinar.example", password="pw-pw-pw-pw", is_staff=True
    )
    member.groups.add(Group.objects.get(name="Event Services"))
    webinar = hold(organiser, package_10k)
    client.force_login(member)
    assert webinar.code in client.get(reverse("admin:webinars_webinar_changelist")).content.decode()
    assert client.get(reverse("admin:webinars_fleetslot_changelist")).status_code == 200
    assert client.get(reverse("admin:webinars_auditentry_changelist")).status_code == 200
    region = Region.objects.get(code="us-east")
    assert client.get(reverse("admin:webinars_region_change", args=[region.pk])).status_code == 200
    assert client.get(reverse("admin:billing_invoice_changelist")).status_code == 403
