"""Finance sees what delivering a webinar cost beside what it earned: the relay cluster's
node-hours at the configured rates (events) reach the finance page (billing) through
webinars' `delivery_costs` extension point, the two apps importing neither other."""

from datetime import timedelta

from django.contrib.auth.models import Group

from billing.models import Payment
from billing.services import invoicing
from billing.tax import tax_for_organisation
from events.models import RelayNode
from tests.events.cluster_helpers import confirmed, provision_to_ready, simulate
from webinars import delivery_costs
from webinars.models import User, Webinar


def _invoiced(webinar: Webinar) -> None:
    organisation = webinar.organisation
    sale = tax_for_organisation(organisation, webinar.price_minor)
    payment = Payment.objects.create(
        webinar=webinar,
        organisation=organisation,
        status=Payment.Status.SUCCEEDED,
        method=Payment.Method.CARD,
        currency=webinar.currency,
        **sale.payment_fields(),
        paid_at=webinar.created_at,
    )
    invoicing.issue_invoice(payment, actor=None)


def test_the_finance_page_shows_delivery_cost_and_gross_margin(
    client, settings, organiser, package_10k
):
    simulate(settings)
    settings.RELAY_HOURLY_RATES = {"default": {"origin": 1000, "edge": 2000, "spare": 500}}
    webinar = confirmed(organiser, package_10k)
    _invoiced(webinar)
    cluster = provision_to_ready(webinar.relay_cluster)
    # 13 nodes ran for 3 hours: 2 origins, 10 edges, 1 spare.
    RelayNode.objects.filter(cluster=cluster).update(
        started_at=cluster.ready_at, terminated_at=cluster.ready_at + timedelta(hours=3)
    )
    Webinar.objects.filter(pk=webinar.pk).update(status=Webinar.Status.COMPLETED)
    cost = 3 * (2 * 1000 + 10 * 2000 + 1 * 500)  # 67,500 minor units = $675.00

    assert delivery_costs.cost_of(webinar).minor == cost
    finance = User.objects.create_user(email="fin@megawebinar.example", password="x", is_staff=True)
    finance.groups.add(Group.objects.get_or_create(name="Finance")[0])
    client.force_login(finance)
    day = webinar.end_at.date().isoformat()
    page = client.get("/finance/", {"from": day, "to": day}).content.decode()

    row = page.split(f'data-webinar="{webinar.code}"', 1)[1].split("</tr>", 1)[0]
    assert "USD 9,000.00" in row  # net revenue of the 10k package
    assert "39.00" in row  # node-hours
    assert "USD 675.00" in row
    assert "USD 8,325.00 (92.5%)" in row


def test_a_webinar_nothing_ran_for_has_no_cost(settings, organiser, package_10k):
    simulate(settings)
    webinar = confirmed(organiser, package_10k)
    assert delivery_costs.cost_of(webinar) is None
