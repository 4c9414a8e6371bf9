"""The staff's customer, contract and outage pages: what each shows, to whom, in how many
queries, and the outage forms (planned work ahead, changes, ending, tickets linked by number)."""

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla import claims as sla_claims
from sla import reports
from sla import services as sla_services
from sla.models import MonthlyReport, Outage
from tests.factories import ContactPersonFactory, ContractFactory, CustomerFactory
from tickets import services
from tickets.models import Channel, Ticket

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)  # a Monday; 11:00 CET, 12:00 EET


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def report(contract, description="Samtal kopplas inte fram.", hours_ago=1, **extra):
    # Numbers of the terms' country: Åland for Dstny, Sweden for Telia.
    numbers = (
        ("018 12345", "040 123 4567") if contract.terms.slug.startswith("dstny") else ("070-123 45 67", "070-765 43 21")
    )
    return services.ticket_create(
        contract=contract,
        channel=Channel.PHONE,
        a_number=numbers[0],
        b_number=numbers[1],
        fault_occurred_at=NOW - datetime.timedelta(hours=hours_ago),
        description=description,
        **extra,
    )


def not_a_fault(ticket, staff_user, minutes, worked_on):
    """A ticket classified as not a fault with time logged on it: billable work (D §15.3)."""
    Ticket.objects.filter(pk=ticket.pk).update(classification="not_fault", not_fault_reason="customer_equipment")
    services.time_log(ticket=ticket, actor=staff_user, minutes=minutes, worked_on=worked_on, note="Konfiguration")


def claim(contract, ticket, actor):
    return sla_claims.claim_file(
        contract=contract,
        discovered_on=NOW.date(),
        description="Prisavdrag",
        tickets=[ticket],
        month=datetime.date(2026, 10, 1),
        amount=Decimal("5.00"),
        actor=actor,
    )


def queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.fixture
def alfa(customer_a, contract_a, customer_b, contract_b, staff_user):
    """Customer A with a contact, an open and a closed ticket, a claim, billable work and an
    outage; customer B with its own of each, none of which may show on A's page."""
    ContactPersonFactory(
        customer=customer_a, name="Anna Alfa", phone="+358181234", email="anna@alfa.example", is_primary=True
    )
    ContactPersonFactory(customer=customer_b, name="Bertil Beta", email="bertil@beta.example")
    open_ticket = report(contract_a, "Växeln svarar inte")
    closed = report(contract_a, "Gammalt fel", hours_ago=30)
    Ticket.objects.filter(pk=closed.pk).update(status="closed", close_reason="resolved")
    not_a_fault(report(contract_a, "Kundens brandvägg", hours_ago=2), staff_user, 45, NOW.date())
    beta_ticket = report(contract_b, "BETA-SECRET fault")
    not_a_fault(beta_ticket, staff_user, 30, NOW.date())
    outage = sla_services.outage_register(
        started_at=datetime.datetime(2026, 11, 2, 9, 0, tzinfo=MARIEHAMN),
        ended_at=datetime.datetime(2026, 11, 2, 11, 0, tzinfo=MARIEHAMN),
        kind="unplanned",
        responsibility="supplier",
        contracts=[contract_a],
        tickets=[open_ticket],
        description="Plattformen nere",
    )
    sla_claims.claim_file(
        contract=contract_a,
        discovered_on=NOW.date(),
        description="Prisavdrag för november",
        tickets=[open_ticket],
        month=datetime.date(2026, 10, 1),
        amount=Decimal("5.00"),
        actor=staff_user,
    )
    return {"open": open_ticket, "closed": closed, "beta": beta_ticket, "outage": outage}


class TestCustomers:
    def test_the_list_finds_customers_by_name_and_links_their_page(self, staff_client, alfa, customer_a, customer_b):
        page = staff_client.get("/desk/customers/?q=alf").content.decode()
        assert f'href="/desk/customers/{customer_a.pk}/"' in page
        assert "Beta AB" not in page
        assert 'href="/desk/customers/"' in staff_client.get("/desk/").content.decode()  # in the desk's menu
        assert "No customer matches" in staff_client.get("/desk/customers/?q=nobody").content.decode()

    def test_the_list_is_paged(self, staff_client, db):
        for n in range(55):
            CustomerFactory(name=f"Kund {n:02d} Ab")
        first = staff_client.get("/desk/customers/").content.decode()
        second = staff_client.get("/desk/customers/?page=2").content.decode()
        assert "Kund 00 Ab" in first and "Kund 54 Ab" not in first
        assert "Kund 54 Ab" in second and "Page 2 of 2" in second

    def test_the_list_runs_the_same_queries_for_one_customer_or_many(self, staff_client, customer_a, contract_a):
        report(contract_a)
        one = queries(staff_client, "/desk/customers/")
        for _n in range(4):
            contract = ContractFactory()
            report(contract)
        assert queries(staff_client, "/desk/customers/") == one <= 6

    def test_the_customer_page_shows_contacts_contracts_tickets_availability_claims_and_billable_work(
        self, staff_client, alfa, customer_a, contract_a
    ):
        page = staff_client.get(f"/desk/customers/{customer_a.pk}/").content.decode()
        assert customer_a.org_number in page
        assert (
            "Anna Alfa" in page
            and "+358181234" in page
            and "anna@alfa.example" in page
            and "Main contact person" in page
        )
        assert f'href="/desk/sla/contracts/{contract_a.pk}/"' in page and "2025-04-15" in page  # delivered
        assert alfa["open"].number in page and "Växeln svarar inte" in page
        assert alfa["closed"].number in page  # recently closed
        # The service-start deadline in the terms' zone, named (Dstny: Åland, EET).
        assert "EET" in page
        assert "99.7222 %" in page  # November so far: two hours down
        assert "5.00 EUR" in page and "Submitted" in page  # the claim
        assert "45 min" in page and "Konfiguration" in page  # billable work this month

    def test_another_customers_data_is_never_on_the_page(self, staff_client, alfa, customer_a):
        page = staff_client.get(f"/desk/customers/{customer_a.pk}/").content.decode()
        for foreign in ("Bertil Beta", "bertil@beta.example", "BETA-SECRET", alfa["beta"].number, "30 min"):
            assert foreign not in page

    def test_the_customer_page_runs_the_same_queries_however_much_it_shows(
        self, staff_client, customer_a, contract_a, dstny, staff_user
    ):
        ContactPersonFactory(customer=customer_a, is_primary=True)
        ticket = report(contract_a)
        not_a_fault(report(contract_a), staff_user, 10, NOW.date())
        claim(contract_a, ticket, staff_user)
        one = queries(staff_client, f"/desk/customers/{customer_a.pk}/")
        for _n in range(3):
            ContactPersonFactory(customer=customer_a)
            contract = ContractFactory(customer=customer_a, terms=dstny)
            claim(contract, report(contract), staff_user)
            not_a_fault(report(contract), staff_user, 10, NOW.date())
        assert queries(staff_client, f"/desk/customers/{customer_a.pk}/") == one

    def test_only_staff_see_customer_pages(self, client, customer_a_user, customer_a, staff_client):
        assert staff_client.get("/desk/customers/999999/").status_code == 404
        client.logout()
        for path in ("/desk/customers/", f"/desk/customers/{customer_a.pk}/"):
            assert client.get(path).status_code == 302
        client.force_login(customer_a_user)
        for path in ("/desk/customers/", f"/desk/customers/{customer_a.pk}/"):
            response = client.get(path)
            assert response.status_code == 302 and "login" in response["Location"]

    def test_the_ticket_page_links_the_customer_page(self, staff_client, alfa, customer_a):
        page = staff_client.get(f"/desk/tickets/{alfa['open'].number}/").content.decode()
        assert f'href="/desk/customers/{customer_a.pk}/" data-testid="customer"' in page


class TestContractPage:
    def test_it_adds_contacts_tickets_claims_and_billable_work_and_links_the_customer(
        self, staff_client, alfa, customer_a, contract_a
    ):
        page = staff_client.get(f"/desk/sla/contracts/{contract_a.pk}/").content.decode()
        assert f'href="/desk/customers/{customer_a.pk}/"' in page
        assert "Anna Alfa" in page and alfa["open"].number in page
        assert "5.00 EUR" in page and "45 min" in page
        assert "<svg" in page  # the chart stays
        assert f'href="/desk/sla/outages/{alfa["outage"].pk}/"' in page
        assert "BETA-SECRET" not in page and "Bertil Beta" not in page

    def test_the_customers_availability_page_shows_none_of_it(self, client, customer_a_user, alfa, contract_a):
        client.force_login(customer_a_user)
        page = client.get(f"/portal/contracts/{contract_a.pk}/availability/").content.decode()
        assert "Anna Alfa" not in page and "/desk/" not in page.split('<main id="main" tabindex="-1">')[1]

    def test_the_contract_page_runs_the_same_queries_however_much_it_shows(
        self, staff_client, customer_a, contract_a, staff_user
    ):
        ContactPersonFactory(customer=customer_a, is_primary=True)
        not_a_fault(report(contract_a), staff_user, 10, NOW.date())
        claim(contract_a, report(contract_a), staff_user)
        one = queries(staff_client, f"/desk/sla/contracts/{contract_a.pk}/")
        for _n in range(3):
            ContactPersonFactory(customer=customer_a)
            not_a_fault(report(contract_a), staff_user, 10, NOW.date())
            claim(contract_a, report(contract_a), staff_user)
        assert queries(staff_client, f"/desk/sla/contracts/{contract_a.pk}/") == one


def test_billable_work_reads_as_many_queries_for_one_customer_as_for_seven(
    staff_client, staff_user, django_user_model, customer_a, dstny, telia
):
    colleague = django_user_model.objects.create_user("kollega", password="x-staff-pass-42", is_staff=True)

    def work_of_every_kind(customer, terms):
        """This month's work on tickets that were not a fault, by two staff members, and work the
        page leaves out: on a fault, and in the month before."""
        contract = ContractFactory(customer=customer, terms=terms)
        for ticket, who in [(report(contract), staff_user), (report(contract), colleague)]:
            not_a_fault(ticket, who, 30, NOW.date())
            services.time_log(ticket=ticket, actor=who, minutes=5, worked_on=NOW.date(), note="Uppföljning")
        not_a_fault(report(contract), staff_user, 20, datetime.date(2026, 10, 30))
        services.time_log(ticket=report(contract), actor=staff_user, minutes=15, worked_on=NOW.date(), note="Fel")

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get("/desk/billable/?month=2026-11")
            assert response.status_code == 200
        return len(captured), response.content.decode().count("<td>Uppföljning</td>")

    work_of_every_kind(customer_a, dstny)
    assert count() == (5, 2)  # the fifth: the terms in force, whose clauses the page cites
    for customer, terms in [(customer_a, telia), (CustomerFactory(), dstny), (CustomerFactory(), telia)] * 2:
        work_of_every_kind(customer, terms)
    assert count() == (5, 14)


def outage_form(**overrides):
    data = {
        "started_at": "2026-12-01T22:00",
        "ended_at": "2026-12-02T02:00",
        "kind": "planned",
        "responsibility": "supplier",
        "announced_at": "2026-11-20T09:00",
        "announced_via": "email",
        "contracts": "",
        "tickets": "",
        "description": "Uppgradering av växelplattformen",
    }
    data.update(overrides)
    return data


def outages_of_every_kind(customer, terms, staff_user):
    """A customer's outages of every kind the board shows: over, going on, hitting the whole
    service, an older one whose linked ticket says it was not the supplier's Fault (to settle) and
    one confirmed all the same, and planned work ahead for its contracts and for everyone."""
    first, second = ContractFactory(customer=customer, terms=terms), ContractFactory(customer=customer, terms=terms)
    contradicting = [report(first, "Kundens brandvägg", hours_ago=2) for _n in range(2)]
    Ticket.objects.filter(pk__in=[t.pk for t in contradicting]).update(
        classification="not_fault", not_fault_reason="customer_equipment"
    )
    days = datetime.timedelta(days=1)
    for started, ended, contracts, tickets in [
        (NOW - 3 * days, NOW - 3 * days + datetime.timedelta(hours=2), [first, second], [report(first)]),
        (NOW - datetime.timedelta(hours=1), None, [first], [report(second)]),
        (NOW - 2 * days, NOW - 2 * days + datetime.timedelta(minutes=30), [], []),
        (NOW - 60 * days, NOW - 60 * days + datetime.timedelta(hours=1), [first], contradicting[:1]),
        (NOW - 50 * days, NOW - 50 * days + datetime.timedelta(hours=1), [first], contradicting[1:]),
    ]:
        outage = sla_services.outage_register(
            started_at=started,
            ended_at=ended,
            kind="unplanned",
            responsibility="supplier",
            contracts=contracts,
            service=None if contracts else terms.slug,
            tickets=tickets,
        )
    sla_services.outage_confirm_responsibility(outage=outage, note="Plattformen ändå", actor=staff_user)
    for contracts in ([first, second], []):
        sla_services.outage_register(
            started_at=NOW + 10 * days,
            ended_at=NOW + 10 * days + datetime.timedelta(hours=2),
            kind="planned",
            responsibility="supplier",
            announced_at=NOW,
            announced_via="email",
            contracts=contracts,
            service=None if contracts else terms.slug,
            description="Uppgradering",
        )


class TestOutagePages:
    def test_staff_register_planned_work_ahead_and_the_board_shows_it_coming(self, staff_client, contract_a):
        response = staff_client.post("/desk/sla/outages/new/", outage_form(contracts=str(contract_a.pk)))
        outage = Outage.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/desk/sla/outages/{outage.pk}/"
        assert outage.started_at == datetime.datetime(2026, 12, 1, 22, 0, tzinfo=STOCKHOLM)
        assert outage.announced_via == "email" and list(outage.contracts.all()) == [contract_a]
        page = staff_client.get(response["Location"]).content.decode()
        assert "The outage is registered." in page and "Planned, ahead" in page
        board = staff_client.get("/desk/sla/").content.decode()
        upcoming = board[board.index('id="upcoming"') : board.index("</table>", board.index('id="upcoming"'))]
        assert "2026-12-01 22:00 CET" in upcoming and "Uppgradering" in upcoming

    def test_a_fault_cannot_be_registered_ahead_and_nothing_is_stored(self, staff_client):
        response = staff_client.post(
            "/desk/sla/outages/new/", outage_form(kind="unplanned", announced_at="", announced_via="")
        )
        assert response.status_code == 400
        assert "only planned work is registered ahead" in response.content.decode()
        assert not Outage.objects.exists()

    def test_the_outage_page_shows_its_times_in_the_staff_zone_and_the_terms_zone(self, staff_client, alfa):
        page = staff_client.get(f"/desk/sla/outages/{alfa['outage'].pk}/").content.decode()
        # 09:00 in Åland (Dstny's terms) is 08:00 in Stockholm, the desk's zone.
        assert "2026-11-02 08:00 CET (09:00 EET: Dstny" in page
        assert alfa["open"].number in page and "Alfa Ab" in page

    def test_a_service_wide_outage_shows_its_services_zone_only(self, staff_client):
        outage = sla_services.outage_register(
            started_at=datetime.datetime(2026, 11, 2, 23, 30, tzinfo=STOCKHOLM),
            ended_at=None,
            kind="unplanned",
            responsibility="supplier",
            service="dstny-alcom-2022",
        )
        page = staff_client.get(f"/desk/sla/outages/{outage.pk}/").content.decode()
        # Past midnight in Åland: the date is shown again.
        assert "2026-11-02 23:30 CET (2026-11-03 00:30 EET: Dstny" in page
        assert "Telia Smart Connect" not in page.split("<main", 1)[1].split("</dl>", 1)[0]

    def test_staff_change_an_outage_and_its_months_reports_become_stale(self, staff_client, alfa, contract_a):
        with time_machine.travel(datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.UTC), tick=False):
            reports.store_month(2026, 11)
        stored = MonthlyReport.objects.get(contract=contract_a, month=datetime.date(2026, 11, 1))
        assert not stored.stale
        outage = alfa["outage"]
        form = staff_client.get(f"/desk/sla/outages/{outage.pk}/edit/").content.decode()
        assert 'value="2026-11-02T08:00"' in form  # shown in the desk's zone, as the form says
        response = staff_client.post(
            f"/desk/sla/outages/{outage.pk}/edit/",
            outage_form(
                kind="unplanned",
                announced_at="",
                announced_via="",
                started_at="2026-11-02T08:00",
                ended_at="2026-11-02T12:00",
                contracts=str(contract_a.pk),
                description="Plattformen nere, längre",
            ),
        )
        assert response.status_code == 302
        outage.refresh_from_db()
        assert outage.ended_at == datetime.datetime(2026, 11, 2, 12, 0, tzinfo=STOCKHOLM)
        assert outage.description == "Plattformen nere, längre"
        stored.refresh_from_db()
        assert stored.stale and "ended_at" in stored.stale_reason and "started_at" not in stored.stale_reason
        assert "The outage is changed." in staff_client.get(response["Location"]).content.decode()

    def test_a_bad_change_names_what_is_wrong_and_changes_nothing(self, staff_client, alfa):
        outage = alfa["outage"]
        response = staff_client.post(
            f"/desk/sla/outages/{outage.pk}/edit/",
            outage_form(
                kind="unplanned",
                announced_at="",
                announced_via="",
                started_at="2026-11-02T08:00",
                ended_at="2026-11-02T07:00",
                contracts="",
            ),
        )
        assert response.status_code == 400 and "cannot end before it starts" in response.content.decode()
        assert Outage.objects.get(pk=outage.pk).ended_at == outage.ended_at

    def test_staff_end_an_ongoing_outage_from_its_page(self, staff_client, contract_a):
        outage = sla_services.outage_register(
            started_at=NOW - datetime.timedelta(hours=1),
            kind="unplanned",
            responsibility="supplier",
            contracts=[contract_a],
        )
        page = staff_client.get(f"/desk/sla/outages/{outage.pk}/").content.decode()
        assert "Ongoing" in page and 'data-testid="end"' in page
        response = staff_client.post(f"/desk/sla/outages/{outage.pk}/end/", {"next": f"/desk/sla/outages/{outage.pk}/"})
        assert response["Location"] == f"/desk/sla/outages/{outage.pk}/"
        outage.refresh_from_db()
        assert outage.ended_at == NOW
        assert "The outage is ended." in staff_client.get(response["Location"]).content.decode()

    def test_the_end_goes_back_only_to_our_own_pages(self, staff_client, contract_a):
        outage = sla_services.outage_register(
            started_at=NOW - datetime.timedelta(hours=1),
            kind="unplanned",
            responsibility="supplier",
            contracts=[contract_a],
        )
        response = staff_client.post(f"/desk/sla/outages/{outage.pk}/end/", {"next": "//evil.example/"})
        assert response["Location"] == "/desk/sla/"

    def test_staff_link_and_unlink_a_ticket_by_its_number(self, staff_client, alfa, contract_a):
        outage, ticket = alfa["outage"], report(contract_a, "Ett till samtal bryts")
        response = staff_client.post(
            f"/desk/sla/outages/{outage.pk}/", {"action": "link", "number": ticket.number.lower()}
        )
        assert response.status_code == 302
        assert set(outage.tickets.all()) == {alfa["open"], ticket}
        assert f"{ticket.number} is linked to the outage." in staff_client.get(response["Location"]).content.decode()
        staff_client.post(f"/desk/sla/outages/{outage.pk}/", {"action": "unlink", "number": ticket.number})
        assert list(outage.tickets.all()) == [alfa["open"]]

    @pytest.mark.parametrize(
        ("number", "error"),
        [
            ("DST-2099-999999", "There is no ticket DST-2099-999999."),
            ("", "Give a ticket number"),
            ("<b>x</b>", "There is no ticket &lt;B&gt;X&lt;/B&gt;."),
        ],
    )
    def test_an_unknown_ticket_number_is_named_and_nothing_changes(self, staff_client, alfa, number, error):
        outage = alfa["outage"]
        response = staff_client.post(f"/desk/sla/outages/{outage.pk}/", {"action": "link", "number": number})
        assert response.status_code == 400 and error in response.content.decode()
        assert list(outage.tickets.all()) == [alfa["open"]]

    def test_another_customers_ticket_is_refused_by_the_service(self, staff_client, alfa):
        outage = alfa["outage"]
        response = staff_client.post(
            f"/desk/sla/outages/{outage.pk}/", {"action": "link", "number": alfa["beta"].number}
        )
        assert response.status_code == 400 and "customers the outage does not name" in response.content.decode()
        assert list(outage.tickets.all()) == [alfa["open"]]

    def test_the_outage_page_runs_the_same_queries_however_many_tickets_and_contracts(
        self, staff_client, customer_a, contract_a, dstny
    ):
        outage = sla_services.outage_register(
            started_at=NOW - datetime.timedelta(hours=1),
            kind="unplanned",
            responsibility="supplier",
            contracts=[contract_a],
            tickets=[report(contract_a)],
        )
        one = queries(staff_client, f"/desk/sla/outages/{outage.pk}/")
        more = [ContractFactory(customer=customer_a, terms=dstny) for _n in range(3)]
        sla_services.outage_update(
            outage=outage,
            changes={"contracts": [contract_a, *more], "tickets": [report(c) for c in [contract_a, *more]]},
        )
        assert queries(staff_client, f"/desk/sla/outages/{outage.pk}/") == one

    def test_the_board_reads_as_many_queries_for_one_customers_outages_as_for_seven(
        self, staff_client, staff_user, customer_a, dstny, telia
    ):
        def count():
            with CaptureQueriesContext(connection) as captured:
                response = staff_client.get("/desk/sla/")
                assert response.status_code == 200
            page = response.content.decode()
            return len(captured), len(re.findall(r'href="/desk/sla/outages/\d+/"', page)), page.count("D §10.4")

        outages_of_every_kind(customer_a, dstny, staff_user)
        assert count() == (14, 7, 1)  # the form's services, monitoring's drafts and its unrouted alerts
        for customer, terms in [(customer_a, telia), (CustomerFactory(), dstny), (CustomerFactory(), telia)] * 2:
            outages_of_every_kind(customer, terms, staff_user)
        assert count() == (14, 49, 7)

    def test_outage_pages_are_for_staff_only(self, client, customer_a_user, alfa, staff_client):
        assert staff_client.get("/desk/sla/outages/999999/").status_code == 404
        assert staff_client.get("/desk/sla/outages/999999/edit/").status_code == 404
        client.logout()
        client.force_login(customer_a_user)
        outage = alfa["outage"]
        for path in (
            f"/desk/sla/outages/{outage.pk}/",
            f"/desk/sla/outages/{outage.pk}/edit/",
            "/desk/sla/outages/new/",
        ):
            assert client.get(path).status_code == 302
            assert client.post(path, {"action": "link", "number": alfa["closed"].number}).status_code == 302
        assert list(outage.tickets.all()) == [alfa["open"]]


def test_the_contract_pages_year_reads_its_outages_once_and_counts_as_each_month_alone(staff_client, customer_a, dstny):
    from sla import selectors

    young = ContractFactory(
        customer=customer_a, terms=dstny, signed_on=datetime.date(2026, 9, 1), delivered_on=datetime.date(2026, 10, 1)
    )
    old = ContractFactory(
        customer=customer_a, terms=dstny, signed_on=datetime.date(2023, 12, 1), delivered_on=datetime.date(2024, 1, 1)
    )
    for months_back, hours in ((1, 3), (4, 5), (9, 2)):
        started = NOW - datetime.timedelta(days=30 * months_back)
        sla_services.outage_register(
            started_at=started,
            ended_at=started + datetime.timedelta(hours=hours),
            kind="unplanned",
            responsibility="supplier",
            contracts=[old],
        )
    sla_services.outage_register(
        started_at=NOW - datetime.timedelta(days=30),
        kind="unplanned",
        ended_at=NOW - datetime.timedelta(days=30, hours=-1),
        responsibility="supplier",
        contracts=[young],
    )
    sla_services.outage_register(
        started_at=NOW - datetime.timedelta(days=200),
        kind="unplanned",
        ended_at=NOW - datetime.timedelta(days=199),
        responsibility="supplier",
        contracts=[],
    )
    year = [(2025, 12), *((2026, m) for m in range(1, 12))]
    together = selectors.contract_months(old, year, now=NOW)
    alone = [selectors.contract_month(old, y, m, now=NOW) for y, m in year]
    assert [(m.availability_percent, m.discount_percent) for m in together] == [
        (m.availability_percent, m.discount_percent) for m in alone
    ]
    assert sum(m.availability_percent < 100 for m in together) == 4  # Nov 2026: none of its own
    assert queries(staff_client, f"/desk/sla/contracts/{old.pk}/") == queries(
        staff_client, f"/desk/sla/contracts/{young.pk}/"
    )  # twelve months cost what two cost
