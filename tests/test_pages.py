"""The customers' portal and the staff desk, through the Django test client."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import ContractFactory, fault_report
from tickets import references, services
from tickets.models import Attachment, Channel, Status, Ticket, TimeEntry

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def at(*args):
    return datetime.datetime(*args, tzinfo=MARIEHAMN)


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def customer_client(client, customer_a_user):
    client.force_login(customer_a_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def form_data(contract, **overrides):
    data = {
        "contract": contract.pk,
        "category": "fault",
        "a_number": "018 12345",
        "b_number": "040 123 4567",
        "fault_occurred_at": "2026-10-01T12:40",
        "description": "Samtal kopplas inte fram.",
    }
    data.update(overrides)
    return data


def make_ticket(contract, actor, moment, **overrides):
    return fault_report(contract, actor, moment, **overrides)


class TestFaultReportForm:
    def test_labels_carry_the_contracts_meaning_of_a_and_b(self, customer_client, contract_a):
        page = customer_client.get("/portal/report/").content.decode()
        assert "A-number: the number that was called" in page
        assert "B-number: the calling number" in page
        assert "may also be reported by phone" in page

    def test_a_report_gives_a_receipt_with_number_and_deadline_in_local_time(self, customer_client, contract_a):
        with travel(at(2026, 10, 1, 13, 0)):
            response = customer_client.post("/portal/report/", form_data(contract_a), follow=True)
        page = response.content.decode()
        ticket = Ticket.objects.get()
        assert ticket.channel == "web"
        assert ticket.fault_occurred_at == at(2026, 10, 1, 12, 40)  # read in the terms' zone
        assert ticket.number in page
        assert "2026-10-01 13:00" in page and "2026-10-01 17:00" in page  # Åland's time

    def test_a_report_costs_fifteen_queries(self, customer_client, contract_a, django_assert_num_queries):
        # 1 the session; 2 its user; 3 the user's contracts with their terms (the form's choices,
        # the contract chosen and the terms in force, read once); 4 SAVEPOINT; 5 the form token
        # taken, unless another request has it (a token kept past its hours is forgotten only
        # when it comes again); 6 SAVEPOINT (ticket_create); 7 the next ticket number; 8 the
        # ticket; 9 its history entry; 10 whether any TMF621 listener may hear; 11 the
        # acknowledgement; 12 whether the contract has account managers; 13 RELEASE; 14 the form
        # token's answer kept; 15 RELEASE. Outside a test, 4 and 15 are BEGIN and COMMIT, which
        # are not counted.
        with travel(at(2026, 10, 1, 13, 0)):
            customer_client.post("/portal/report/", form_data(contract_a))  # starts the year's numbers
            with django_assert_num_queries(15):
                response = customer_client.post("/portal/report/", {**form_data(contract_a), "once": "a-token"})
        assert response.status_code == 302
        assert Ticket.objects.get(number="DST-2026-000002").channel == "web"

    def test_a_customer_with_two_contracts_chooses_among_their_own_only(
        self, customer_client, customer_a, contract_a, contract_b, dstny, django_assert_num_queries
    ):
        second = ContractFactory(customer=customer_a, terms=dstny, description="Växel Kista")
        with travel(at(2026, 10, 1, 13, 0)):
            page = customer_client.get("/portal/report/").content.decode()
            # The form again with its errors: the session, its user, and the contracts with their
            # terms, read once and shown as the choices.
            with django_assert_num_queries(3):
                again = customer_client.post("/portal/report/", form_data(second, a_number="")).content.decode()
            other = customer_client.post("/portal/report/", form_data(contract_b)).content.decode()
        choices = re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>', page)
        assert [int(pk) for pk, _, _ in choices] == [contract_a.pk, second.pk]
        assert choices[0][2] == dstny.name and choices[1][2].startswith("Växel Kista – ")
        assert f'<option value="{second.pk}" selected>' in again and 'id="id_a_number_error"' in again
        assert "Select a valid choice." in other and f'value="{contract_b.pk}"' not in other
        assert not Ticket.objects.exists()

    def test_errors_name_the_field_and_store_nothing(self, customer_client, contract_a):
        with travel(at(2026, 10, 1, 13, 0)):
            response = customer_client.post(
                "/portal/report/", form_data(contract_a, a_number="+46 70 123 45 67", fault_occurred_at="")
            )
        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="id_a_number_error"' in page and "only cover numbers in: AX, FI" in page
        assert 'id="id_fault_occurred_at_error"' in page
        assert not Ticket.objects.exists()

    def test_attachments_are_stored_with_the_report(self, customer_client, contract_a):
        shot = SimpleUploadedFile("../../etc/skärmbild.png", PNG, content_type="image/png")
        with travel(at(2026, 10, 1, 13, 0)):
            customer_client.post("/portal/report/", {**form_data(contract_a), "attachments": [shot]})
        attachment = Attachment.objects.get()
        assert attachment.filename == "skärmbild.png"
        assert attachment.content_type == "image/png"
        response = customer_client.get(f"/tickets/{attachment.ticket.number}/attachments/{attachment.pk}/")
        assert b"".join(response.streaming_content) == PNG

    def test_a_file_lying_about_its_type_is_refused_and_nothing_is_stored(self, customer_client, contract_a):
        fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00\x03\x00\x00\x00" * 8, content_type="image/png")
        with travel(at(2026, 10, 1, 13, 0)):
            response = customer_client.post("/portal/report/", {**form_data(contract_a), "attachments": [fake]})
        assert "not a file type we accept" in response.content.decode()
        assert not Ticket.objects.exists() and not Attachment.objects.exists()

    def test_a_bad_file_and_a_bad_field_are_told_in_the_same_round(self, customer_client, contract_a):
        fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00\x03\x00\x00\x00" * 8, content_type="image/png")
        with travel(at(2026, 10, 1, 13, 0)):
            response = customer_client.post(
                "/portal/report/",
                {**form_data(contract_a, a_number="+46 70 123 45 67"), "attachments": [fake]},
                HTTP_ACCEPT_LANGUAGE="en",
            )
        page = response.content.decode()
        assert "only cover numbers in: AX, FI" in page and "photo.png is not a file type we accept" in page
        assert not Ticket.objects.exists() and not Attachment.objects.exists()

    def test_an_oversized_file_is_refused(self, customer_client, contract_a, settings):
        settings.ATTACHMENT_MAX_BYTES = 1000
        big = SimpleUploadedFile("log.txt", b"x" * 2000, content_type="text/plain")
        with travel(at(2026, 10, 1, 13, 0)):
            response = customer_client.post("/portal/report/", {**form_data(contract_a), "attachments": [big]})
        assert "the limit is" in response.content.decode()
        assert not Ticket.objects.exists()


class TestPortal:
    def test_the_waiting_banner_shows_the_reply_deadline(
        self, customer_client, contract_a, customer_a_user, staff_user
    ):
        ticket = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
        with travel(at(2026, 10, 1, 14, 0)):
            services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilken modell?")
        page = customer_client.get(f"/portal/tickets/{ticket.number}/").content.decode()
        assert 'data-testid="waiting-banner"' in page
        assert "2026-10-03 14:00" in page

    def test_a_reply_from_the_portal_resumes_the_ticket(self, customer_client, contract_a, customer_a_user, staff_user):
        ticket = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
        services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilken modell?")
        response = customer_client.post(f"/portal/tickets/{ticket.number}/", {"message": "Yealink"})
        assert response.status_code == 302
        ticket.refresh_from_db()
        assert ticket.status == Status.IN_PROGRESS and ticket.customer_reply_due is None

    def test_html_in_messages_is_shown_escaped(self, customer_client, contract_a, customer_a_user):
        ticket = make_ticket(
            contract_a, customer_a_user, at(2026, 10, 1, 13, 0), description="<b>fet</b><script>x()</script>"
        )
        page = customer_client.get(f"/portal/tickets/{ticket.number}/").content.decode()
        assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>x()" not in page

    def test_another_customers_ticket_is_not_found(self, customer_client, contract_b, staff_user):
        with travel(at(2026, 10, 1, 13, 0)):
            other = services.ticket_create(
                contract=contract_b,
                reported_by=staff_user,
                channel=Channel.PHONE,
                a_number="070-123 45 67",
                b_number="070-765 43 21",
                fault_occurred_at=at(2026, 10, 1, 12, 0),
                description="x",
            )
        assert customer_client.get(f"/portal/tickets/{other.number}/").status_code == 404
        assert customer_client.get(f"/portal/tickets/{other.number}/receipt/").status_code == 404

    def test_internal_notes_never_reach_the_portal(self, customer_client, contract_a, customer_a_user, staff_user):
        ticket = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
        services.ticket_reply(ticket=ticket, actor=staff_user, message="Intern: kolla brandväggen", internal=True)
        assert "Intern: kolla" not in customer_client.get(f"/portal/tickets/{ticket.number}/").content.decode()

    def test_the_ticket_list_runs_a_constant_number_of_queries(
        self, customer_client, customer_a, customer_a_user, dstny, django_assert_max_num_queries
    ):
        contracts = [ContractFactory(customer=customer_a, terms=dstny) for _ in range(3)]
        for i in range(24):
            make_ticket(contracts[i % 3], customer_a_user, at(2026, 10, 1, 9, 0) + datetime.timedelta(minutes=i))
        with django_assert_max_num_queries(9):
            response = customer_client.get("/portal/")
        assert response.content.decode().count("/portal/tickets/DST-2026-") == 24


class TestDesk:
    def test_the_ticket_page_lists_links_to_files_kept_elsewhere_with_their_host(
        self, staff_client, staff_user, contract_a, customer_a_user
    ):
        ticket = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 9, 0))
        references.reference_add(
            ticket=ticket, actor=customer_a_user, url="http://192.0.2.7:8080/logs/trace.pcap", name="trace.pcap"
        )
        page = staff_client.get(f"/desk/tickets/{ticket.number}/").content.decode()
        link = page.split('<li class="link" data-testid="file-link">')[1].split("</li>")[0]
        assert (
            '<a href="http://192.0.2.7:8080/logs/trace.pcap" rel="noopener noreferrer nofollow">trace.pcap</a>' in link
        )
        assert "external link to 192.0.2.7:8080" in link and "alfa-user" in link and "target=" not in link
        assert "alfa-user added a link to “trace.pcap” on 192.0.2.7:8080." in page  # its history entry

    def test_the_admin_shows_a_tickets_links_read_only(self, client, django_user_model, contract_a, customer_a_user):
        ticket = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 9, 0))
        references.reference_add(ticket=ticket, actor=customer_a_user, url="https://f.example/trace", name="trace")
        client.force_login(django_user_model.objects.create_superuser("root", "root@desk.example", "x-root-pass-42"))
        page = client.get(f"/admin/tickets/ticket/{ticket.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Links to files" in page and "https://f.example/trace" in page
        assert 'name="attachment_references-0-url"' not in page  # shown, not editable

    def test_the_queue_puts_the_nearest_deadline_first(self, staff_client, contract_a, customer_a_user):
        later = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 15, 0))
        sooner = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 9, 0))
        with travel(at(2026, 10, 1, 16, 0)):
            page = staff_client.get("/desk/").content.decode()
        assert page.index(sooner.number) < page.index(later.number)
        assert "Breached" in page  # due 13:00, not started at 16:00

    def test_filters_and_search(self, staff_client, contract_a, customer_a_user):
        urgent = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 9, 0), urgent=True)
        plain = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 10, 0), b_number="040 765 4321")
        page = staff_client.get("/desk/?urgent=true").content.decode()
        assert urgent.number in page and plain.number not in page
        page = staff_client.get("/desk/", {"q": "040 765 4321"}).content.decode()
        assert plain.number in page and urgent.number not in page

    def test_the_queue_runs_a_constant_number_of_queries(
        self, staff_client, dstny, customer_a_user, django_assert_max_num_queries
    ):
        contracts = [ContractFactory(terms=dstny) for _ in range(5)]
        for i in range(40):
            make_ticket(contracts[i % 5], customer_a_user, at(2026, 10, 1, 9, 0) + datetime.timedelta(minutes=i))
        with django_assert_max_num_queries(12):
            response = staff_client.get("/desk/")
        assert response.content.decode().count('data-href="/desk/tickets/') == 40

    def test_staff_work_a_ticket_from_its_page(self, staff_client, staff_user, contract_a, customer_a_user):
        ticket = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 9, 0))
        url = f"/desk/tickets/{ticket.number}/"
        assert staff_client.post(url + "start/").status_code == 302
        staff_client.post(url + "assign/", {"assignee": staff_user.pk})
        staff_client.post(url + "classify/", {"classification": "not_fault", "not_fault_reason": "customer_equipment"})
        staff_client.post(url + "time/", {"minutes": 45, "worked_on": "2026-10-01", "note": "Felsökning"})
        staff_client.post(url + "reply/", {"message": "Intern anteckning", "internal": "on"})
        staff_client.post(url + "resolve/", {"message": "Brandväggen blockerade SIP."})
        ticket.refresh_from_db()
        assert ticket.status == Status.RESOLVED and ticket.assignee == staff_user
        assert ticket.classification == "not_fault"
        page = staff_client.get(url).content.decode()
        assert "Intern anteckning" in page and "Brandväggen blockerade SIP." in page
        assert f"{staff_user.username} started work on it." in page
        billable = staff_client.get("/desk/billable/?month=2026-10").content.decode()
        assert ticket.number in billable and "45" in billable

    def test_an_illegal_action_is_explained(self, staff_client, contract_a, customer_a_user):
        ticket = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 9, 0))
        staff_client.post(f"/desk/tickets/{ticket.number}/start/")
        page = staff_client.post(f"/desk/tickets/{ticket.number}/start/", follow=True).content.decode()
        assert "cannot be started" in page

    def test_not_a_fault_without_reason_is_refused_on_the_field(self, staff_client, contract_a, customer_a_user):
        ticket = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 9, 0))
        response = staff_client.post(f"/desk/tickets/{ticket.number}/classify/", {"classification": "not_fault"})
        assert response.status_code == 400
        assert "Choose why it is not a fault: “Minor issue" in response.content.decode()

    def test_a_phone_report_keeps_its_real_arrival_time(self, staff_client, contract_a, customer_a):
        data = form_data(
            contract_a,
            customer=customer_a.pk,
            received_at="2026-10-02T16:30",
            fault_occurred_at="2026-10-02T16:00",
            urgent="on",
        )
        with travel(at(2026, 10, 5, 10, 0)):
            response = staff_client.post("/desk/report/", data)
        assert response.status_code == 302
        ticket = Ticket.objects.get()
        assert ticket.channel == "phone" and ticket.urgent
        assert ticket.received_at == at(2026, 10, 2, 16, 30)
        assert ticket.service_start_due == at(2026, 10, 5, 12, 0)

    def test_a_phone_report_for_the_wrong_customers_contract_is_refused(self, staff_client, contract_a, customer_b):
        data = form_data(contract_a, customer=customer_b.pk, received_at="2026-10-01T12:50")
        with travel(at(2026, 10, 1, 13, 0)):
            response = staff_client.post("/desk/report/", data)
        assert "belongs to another customer" in response.content.decode()
        assert not Ticket.objects.exists()

    def test_customers_cannot_open_the_desk(self, customer_client):
        assert customer_client.get("/desk/").status_code == 302
        assert customer_client.get("/desk/billable/").status_code == 302

    def test_time_is_not_logged_in_the_future(self, staff_client, contract_a, customer_a_user):
        ticket = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 9, 0))
        with travel(at(2026, 10, 1, 10, 0)):
            response = staff_client.post(
                f"/desk/tickets/{ticket.number}/time/", {"minutes": 5, "worked_on": "2026-10-09"}
            )
        assert response.status_code == 400 and not TimeEntry.objects.exists()


def test_the_header_marks_the_current_page_and_offers_a_skip_link(client, staff_user):
    client.force_login(staff_user)
    page = client.get("/desk/customers/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<a class="skip" href="#main">Skip to the content</a>' in page and '<main id="main"' in page
    assert '<a href="/desk/customers/" aria-current="page">Customers</a>' in page
    assert '<a href="/desk/" aria-current="page">' not in page  # the queue is another page
    queue = client.get("/desk/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<a href="/desk/" aria-current="page">Queue</a>' in queue


def test_the_ticket_pages_call_no_method_that_needs_arguments(
    client, staff_user, customer_a_user, contract_a, monkeypatch
):
    """A template that names a method needing arguments makes Django inspect its signature on
    every render, then print nothing: neither ticket page may name one."""
    import django.template.base

    inspected = []
    signature = django.template.base.signature
    monkeypatch.setattr(django.template.base, "signature", lambda method: inspected.append(method) or signature(method))
    ticket = make_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
    services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilket nummer ringde ni?")
    for user, page in ((staff_user, "/desk/tickets/"), (customer_a_user, "/portal/tickets/")):
        client.force_login(user)
        assert client.get(f"{page}{ticket.number}/").status_code == 200
    assert inspected == []
