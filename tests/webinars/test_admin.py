import re
from datetime import UTC
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group
from django.urls import reverse

from tests.conftest import hold, local_start
from webinars.models import (
    AuditEntry,
    FleetSlot,
    Membership,
    Organisation,
    Package,
    Region,
    User,
)


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


# --- Every admin edit goes through a service and writes exactly one audit row ---------------


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action))


def _changelist_formset(rows: list[dict]) -> dict:
    data = {
        "form-TOTAL_FORMS": str(len(rows)),
        "form-INITIAL_FORMS": str(len(rows)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for i, row in enumerate(rows):
        data |= {f"form-{i}-{key}": value for key, value in row.items() if value is not None}
    return data


def test_package_on_sale_box_in_the_list_is_a_service_call_with_one_audit_row(
    client, staff, catalogue
):
    packages = list(Package.objects.order_by("capacity"))
    client.force_login(staff)
    rows = [{"id": p.pk, "is_active": None if p.code == "50k" else "on"} for p in packages]
    response = client.post(reverse("admin:webinars_package_changelist"), _changelist_formset(rows))
    assert response.status_code == 302
    assert Package.objects.get(code="50k").is_active is False
    (entry,) = _audit("package.updated")
    assert entry.actor == staff and entry.subject_code == "50k"
    assert entry.data == {"is_active": {"from": True, "to": False}}


def test_package_price_edit_is_audited_once_and_the_code_is_fixed(client, staff, catalogue):
    package = Package.objects.get(code="10k")
    client.force_login(staff)
    data = {
        "code": "hacked",
        "name": package.name,
        "capacity": package.capacity,
        "price_minor": 950_000,
        "currency": "USD",
        "lead_time_days": package.lead_time_days,
        "min_duration_minutes": 30,
        "max_duration_minutes": 240,
        "staff_roles": '{"producer": 1}',
        "is_active": "on",
    }
    response = client.post(reverse("admin:webinars_package_change", args=[package.pk]), data)
    assert response.status_code == 302
    package.refresh_from_db()
    assert package.price_minor == 950_000 and package.code == "10k"
    (entry,) = _audit("package.updated")
    assert entry.actor == staff
    assert entry.data == {"price_minor": {"from": 900_000, "to": 950_000}}
    # Saving again without a change writes nothing.
    client.post(reverse("admin:webinars_package_change", args=[package.pk]), data)
    assert len(_audit("package.updated")) == 1


def test_region_edit_with_a_fleet_resize_is_one_audited_service_call(
    client, staff, organiser, package_10k
):
    hold(organiser, package_10k)
    region = Region.objects.get(code="us-east")
    client.force_login(staff)
    url = reverse("admin:webinars_region_change", args=[region.pk])
    data = {
        "name": "Virginia relays",
        "latitude": region.latitude,
        "longitude": region.longitude,
        "fleet_size": 5,
        "sort_order": 0,
        "is_active": "on",
    }
    refused = client.post(url, data)
    assert refused.status_code == 200  # the form again, with the reason next to the field
    assert "already has 13 nodes committed" in refused.content.decode()
    region.refresh_from_db()
    assert (region.name, region.fleet_size) != ("Virginia relays", 5)
    assert not _audit("region.updated")
    assert client.post(url, data | {"fleet_size": 900}).status_code == 302
    region.refresh_from_db()
    assert (region.name, region.fleet_size) == ("Virginia relays", 900)
    assert set(FleetSlot.objects.values_list("capacity", flat=True)) == {900}
    (entry,) = _audit("region.updated")
    assert entry.actor == staff
    assert entry.data["fleet_size"] == {"from": 1200, "to": 900}
    assert set(entry.data) == {"name", "fleet_size"}


def _organisation_form(organisation: Organisation, memberships: list[dict], **changes) -> dict:
    data = {field: getattr(organisation, field) for field in Organisation.BILLING_FIELDS}
    data |= changes
    initial = [m for m in memberships if m.get("id")]
    data |= {
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(initial)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(memberships):
        data |= {f"memberships-{i}-{key}": value for key, value in row.items()}
    return data


def _existing(organisation: Organisation) -> list[dict]:
    return [
        {"id": m.pk, "organisation": organisation.pk, "user": m.user_id, "role": m.role}
        for m in organisation.memberships.order_by("pk")
    ]


def test_organisation_billing_edit_is_validated_and_audited_once(client, staff, organiser):
    organisation = organiser.membership.organisation
    client.force_login(staff)
    url = reverse("admin:webinars_organisation_change", args=[organisation.pk])
    bad = client.post(
        url, _organisation_form(organisation, _existing(organisation), country="FR", vat_id="FR1")
    )
    assert bad.status_code == 200  # same VAT-id check as the organiser's own page
    organisation.refresh_from_db()
    assert organisation.country == "US"
    response = client.post(
        url, _organisation_form(organisation, _existing(organisation), po_number="PO-77")
    )
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.po_number == "PO-77"
    entries = AuditEntry.objects.filter(action__startswith="organisation.", actor=staff)
    assert [(e.action, e.data) for e in entries] == [
        ("organisation.updated", {"po_number": "PO-77"})
    ]


def test_membership_add_role_change_and_removal_are_services(client, staff, organiser):
    organisation = organiser.membership.organisation
    colleague = User.objects.create_user(email="dana@acme.example", password="pw-pw-pw-pw")
    client.force_login(staff)
    url = reverse("admin:webinars_organisation_change", args=[organisation.pk])
    new_row = {"organisation": organisation.pk, "user": colleague.pk, "role": "member"}
    assert (
        client.post(
            url, _organisation_form(organisation, [*_existing(organisation), new_row])
        ).status_code
        == 302
    )
    assert Membership.objects.get(user=colleague).organisation == organisation
    rows = _existing(organisation)
    rows[1]["role"] = "owner"
    assert client.post(url, _organisation_form(organisation, rows)).status_code == 302
    assert Membership.objects.get(user=colleague).role == "owner"
    rows = _existing(organisation)
    rows[1]["DELETE"] = "on"
    assert client.post(url, _organisation_form(organisation, rows)).status_code == 302
    assert not Membership.objects.filter(user=colleague).exists()
    entries = AuditEntry.objects.filter(actor=staff, subject_code=str(organisation.code))
    assert [(e.action, e.data) for e in entries.order_by("id")] == [
        ("organisation.member_added", {"user": colleague.email, "role": "member"}),
        (
            "organisation.member_role_changed",
            {"user": colleague.email, "from": "member", "to": "owner"},
        ),
        ("organisation.member_removed", {"user": colleague.email}),
    ]


def test_a_user_of_another_organisation_cannot_be_added(client, staff, organiser, outsider):
    organisation = organiser.membership.organisation
    client.force_login(staff)
    url = reverse("admin:webinars_organisation_change", args=[organisation.pk])
    new_row = {"organisation": organisation.pk, "user": outsider.pk, "role": "member"}
    response = client.post(
        url, _organisation_form(organisation, [*_existing(organisation), new_row])
    )
    assert response.status_code == 200
    assert Membership.objects.get(user=outsider).organisation != organisation
    assert not AuditEntry.objects.filter(action__startswith="organisation.member")


def test_webinar_attention_flag_edit_is_a_service_call(client, staff, organiser, package_10k):
    webinar = hold(organiser, package_10k)
    client.force_login(staff)
    url = reverse("admin:webinars_webinar_change", args=[webinar.pk])
    inline = {
        f"{prefix}-{key}": "0"
        for prefix in ("reservations", "audit_entries")
        for key in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS")
    }
    inline |= {"reservations-MAX_NUM_FORMS": "0", "audit_entries-MAX_NUM_FORMS": "0"}
    response = client.post(
        url, inline | {"needs_attention": "on", "attention_reason": "call the organiser"}
    )
    assert response.status_code == 302
    (flagged,) = _audit("webinar.flagged")
    assert flagged.actor == staff and flagged.data == {"reason": "call the organiser"}
    client.post(url, inline | {"attention_reason": "called: all fine"})
    webinar.refresh_from_db()
    assert webinar.needs_attention is False and webinar.attention_reason == ""
    (cleared,) = _audit("webinar.flag_cleared")
    assert cleared.actor == staff
    assert cleared.data == {"reason": "call the organiser", "note": "called: all fine"}


# --- What Event Services and finance read ---------------------------------------------------


def test_webinar_pages_show_zones_money_and_tables(client, staff, organiser, package_1m):
    webinar = hold(
        organiser,
        package_1m,
        start_local=local_start(days=30, hour=15, tz="Europe/Paris"),
        timezone_name="Europe/Paris",
        preset="custom",
        custom_split={"eu-west": 6000, "us-east": 4000},
    )
    client.force_login(staff)
    listing = client.get(reverse("admin:webinars_webinar_changelist")).content.decode()
    local = webinar.start_at.astimezone(ZoneInfo("Europe/Paris"))
    assert f"{local:%H:%M} {local:%Z}" in listing  # 15:00 CET (or CEST)
    assert f"{webinar.start_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in listing
    assert "$100,000.00 USD" in listing
    page = client.get(reverse("admin:webinars_webinar_change", args=[webinar.pk])).content.decode()
    assert "$100,000.00 USD" in page and "1,000,000 attendees" in page
    tables = re.findall(r'<table class="readable">.*?</table>', page, re.S)
    split, plan = tables[0], tables[1]
    assert "<td>eu-west</td><td>60%</td>" in split and "<td>us-east</td><td>40%</td>" in split
    assert "<th>spare edges</th>" in plan and "<td>600,000</td>" in plan
    assert f"<th>{webinar.total_nodes:,}</th>" in plan  # the total row
    assert '"regions"' not in page  # no raw JSON
    # Other times carry their zone too.
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", page)


def test_billing_admin_shows_money_not_minor_units(client, staff, organiser, package_10k):
    from tests.billing.finance_helpers import paid_payment

    payment = paid_payment(organiser, package_10k)
    client.force_login(staff)
    listing = client.get(reverse("admin:billing_payment_changelist")).content.decode()
    assert "$9,000.00 USD" in listing
    page = client.get(reverse("admin:billing_payment_change", args=[payment.pk])).content.decode()
    assert "$9,000.00 USD" in page and ">900000<" not in page


# --- Staff and finance do not get the organiser's menu --------------------------------------


def _finance_user() -> User:
    from django.contrib.auth.models import Group

    user = User.objects.create_user(
        email="fin@megawebinar.example", password="pw-pw-pw-pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Finance"))
    return user


def _menu(client) -> str:
    page = client.get(reverse("pricing")).content.decode()
    return re.search(r"<header>.*?</header>", page, re.S).group(0)


def test_staff_and_finance_see_admin_links_not_the_organiser_menu(
    client, staff, organiser, catalogue
):
    client.force_login(organiser)
    menu = _menu(client)
    assert "My webinars" in menu and reverse("webinars:book") in menu
    assert reverse("admin:index") not in menu and reverse("finance:revenue") not in menu

    member = User.objects.create_user(
        email="es@megawebinar.example", password="pw-pw-pw-pw", is_staff=True
    )
    member.groups.add(Group.objects.get(name="Event Services"))
    client.force_login(member)
    menu = _menu(client)
    assert reverse("admin:index") in menu
    for organiser_link in ("webinars:dashboard", "webinars:book", "webinars:organisation"):
        assert reverse(organiser_link) not in menu
    assert reverse("finance:revenue") not in menu  # would be a 403 for them

    client.force_login(_finance_user())
    menu = _menu(client)
    assert reverse("admin:index") in menu and reverse("finance:revenue") in menu
    assert reverse("webinars:book") not in menu
    admin_page = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("finance:revenue")}"' in admin_page


def test_staff_land_in_the_admin_after_logging_in(client, staff, organiser):
    response = client.post(
        reverse("login"), {"username": staff.email, "password": "correct-horse-battery"}
    )
    assert response["Location"] == reverse("admin:index")
    client.logout()
    response = client.post(
        reverse("login"), {"username": organiser.email, "password": "correct-horse-battery"}
    )
    assert response["Location"] == reverse("webinars:dashboard")


def test_another_app_adds_a_webinar_action_through_the_hook(
    client, staff, organiser, package_10k, monkeypatch
):
    """As billing does (cancel and refund), and events will: register an admin action on
    the webinar list without touching WebinarAdmin, and it is offered and runs."""
    from django.contrib import admin, messages

    from webinars import admin_actions
    from webinars.admin.bookings import WebinarAdmin

    monkeypatch.setattr(admin_actions, "WEBINAR_ACTIONS", list(admin_actions.WEBINAR_ACTIONS))

    @admin_actions.register_webinar_action
    @admin.action(description="Say hello to the selected webinars")
    def say_hello(modeladmin, request, queryset):
        for webinar in queryset:
            messages.info(request, f"hello {webinar.code}")

    webinar = hold(organiser, package_10k)
    client.force_login(staff)
    url = reverse("admin:webinars_webinar_changelist")
    page = client.get(url).content.decode()
    assert "Say hello to the selected webinars" in page
    assert "Cancel selected webinars and refund them in full" in page  # billing's
    response = client.post(
        url, {"action": "say_hello", "_selected_action": [webinar.pk]}, follow=True
    )
    assert f"Hello {webinar.code}" in response.content.decode()  # the admin capitalises
    assert "say_hello" not in str(WebinarAdmin.__dict__)
    assert "cancel_and_refund" not in str(WebinarAdmin.__dict__)
