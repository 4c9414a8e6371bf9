"""Fault reports through the API (API.md, CONTRACT.md D §16)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from tests.celery_helpers import broker_at
from tests.factories import ContractFactory, CustomerUserFactory
from tickets import references
from tickets.models import Notification, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

MARIEHAMN = ZoneInfo("Europe/Mariehamn")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(zone, *args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zone)


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat()


def utc(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def report(client, contract, **overrides):
    payload = {
        "contract": contract.pk,
        "a_number": "018-123 45",
        "b_number": "+46 70 123 45 67",
        "fault_occurred_at": "2026-10-01T09:00:00+03:00",
        "description": "Inkommande samtal till växeln bryts efter 3 sekunder.",
    }
    payload.update(overrides)
    return client.post("/api/tickets/", payload, format="json")


@pytest.fixture
def primary_contact(customer_a):
    return customer_a.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)


def travel(moment):
    return time_machine.travel(moment, tick=False)


class TestTheClock:
    """D §16.8 through the API: what counts as received and when service must start."""

    def test_report_in_business_hours_is_due_four_business_hours_later(self, customer_a_api, contract_a):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):  # Thursday
            response = report(customer_a_api, contract_a)
        assert response.status_code == 201, response.json()
        body = response.json()
        assert utc(body["effective_received_at"]) == at(MARIEHAMN, 2026, 10, 1, 13, 0)
        assert utc(body["service_start_due"]) == at(MARIEHAMN, 2026, 10, 1, 17, 0)

    def test_report_on_saturday_counts_from_monday_morning(self, customer_a_api, contract_a):
        with travel(at(MARIEHAMN, 2026, 10, 3, 11, 20)):
            body = report(customer_a_api, contract_a).json()
        assert utc(body["received_at"]) == at(MARIEHAMN, 2026, 10, 3, 11, 20)
        assert utc(body["effective_received_at"]) == at(MARIEHAMN, 2026, 10, 5, 8, 30)
        assert utc(body["service_start_due"]) == at(MARIEHAMN, 2026, 10, 5, 12, 30)

    def test_report_in_the_evening_counts_from_the_next_morning(self, customer_a_api, contract_a):
        with travel(at(MARIEHAMN, 2026, 10, 6, 19, 45)):
            body = report(customer_a_api, contract_a).json()
        assert utc(body["service_start_due"]) == at(MARIEHAMN, 2026, 10, 7, 12, 30)

    def test_alands_autonomy_day_is_not_a_business_day(self, customer_a_api, contract_a):
        # Monday 8 June 2026, 15:00: two hours that day, 9 June is Självstyrelsedagen.
        with travel(at(MARIEHAMN, 2026, 6, 8, 15, 0)):
            body = report(customer_a_api, contract_a, fault_occurred_at="2026-06-08T14:00:00+03:00").json()
        assert utc(body["service_start_due"]) == at(MARIEHAMN, 2026, 6, 10, 10, 30)

    def test_christmas_eve_is_a_holiday_in_aland(self, customer_a_api, contract_a):
        with travel(at(MARIEHAMN, 2026, 12, 23, 15, 0)):
            body = report(customer_a_api, contract_a, fault_occurred_at="2026-12-23T14:00:00+02:00").json()
        assert utc(body["service_start_due"]) == at(MARIEHAMN, 2026, 12, 28, 10, 30)

    def test_a_dst_weekend_keeps_the_wall_clock_hours(self, customer_a_api, contract_a):
        # Friday 23 Oct 2026 16:00 (UTC+3); clocks go back on Sunday 25 Oct.
        with travel(at(MARIEHAMN, 2026, 10, 23, 16, 0)):
            body = report(customer_a_api, contract_a, fault_occurred_at="2026-10-23T15:00:00+03:00").json()
        due = utc(body["service_start_due"])
        assert due == at(MARIEHAMN, 2026, 10, 26, 11, 30)
        assert due == datetime.datetime(2026, 10, 26, 9, 30, tzinfo=datetime.UTC)

    def test_terms_without_a_service_start_promise_have_no_deadline(self, staff_api, contract_b):
        with travel(at(STOCKHOLM, 2026, 6, 19, 10, 0)):  # Midsommarafton: Telia runs 24/7
            response = report(
                staff_api,
                contract_b,
                a_number="08-123 456 78",
                fault_occurred_at="2026-06-19T09:00:00+02:00",
            )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert utc(body["effective_received_at"]) == at(STOCKHOLM, 2026, 6, 19, 10, 0)
        assert body["service_start_due"] is None
        assert body["service_start_breached"] is False

    def test_staff_register_a_phone_report_with_its_real_arrival_time(self, staff_api, contract_a):
        with travel(at(MARIEHAMN, 2026, 10, 5, 10, 0)):
            response = report(
                staff_api,
                contract_a,
                channel="phone",
                urgent=True,
                received_at="2026-10-02T16:30:00+03:00",
                fault_occurred_at="2026-10-02T16:00:00+03:00",
            )
        body = response.json()
        assert response.status_code == 201, body
        assert body["channel"] == "phone" and body["urgent"] is True
        # Friday 16:30 + 4 h: half an hour on Friday, 3.5 h on Monday.
        assert utc(body["service_start_due"]) == at(MARIEHAMN, 2026, 10, 5, 12, 0)


class TestTheReport:
    def test_numbers_are_stored_in_e164_and_the_ticket_gets_a_number(self, customer_a_api, contract_a):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            body = report(customer_a_api, contract_a).json()
        assert body["a_number"] == "+3581812345"
        assert body["b_number"] == "+46701234567"
        assert body["number"] == "DST-2026-000001"
        assert body["status"] == "new" and body["channel"] == "api"
        assert body["customer"] == contract_a.customer_id

    def test_ticket_numbers_count_per_prefix(self, staff_api, contract_a, contract_b):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            first = report(staff_api, contract_a).json()["number"]
            second = report(staff_api, contract_a).json()["number"]
            telia = report(staff_api, contract_b, a_number="070-123 45 67").json()["number"]
        assert (first, second, telia) == ("DST-2026-000001", "DST-2026-000002", "TSC-2026-000001")

    def test_the_customer_gets_an_acknowledgement_with_the_ticket_number(
        self, customer_a_api, contract_a, primary_contact, django_capture_on_commit_callbacks, settings
    ):
        settings.CELERY_TASK_ALWAYS_EAGER = True
        from config.celery import app

        app.conf.task_always_eager = True
        try:
            with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
                with django_capture_on_commit_callbacks(execute=True):
                    body = report(customer_a_api, contract_a).json()
        finally:
            app.conf.task_always_eager = False
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.subject.startswith(f"[{body['number']}]")
        assert set(message.to) == {"alfa-user@customer.example", "anna@alfa.example"}
        assert "2026-10-01 17:00" in message.body  # the deadline, in Åland's local time
        assert Notification.objects.get().sent_at is not None

    def test_a_report_is_stored_even_when_the_broker_is_down(
        self, customer_a_api, contract_a, django_capture_on_commit_callbacks, caplog
    ):
        with broker_at("redis://127.0.0.1:1/0"):  # nothing listens on port 1
            with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
                with django_capture_on_commit_callbacks(execute=True):
                    response = report(customer_a_api, contract_a)
        assert response.status_code == 201
        assert "Broker unavailable" in caplog.text and "Connection refused" in caplog.text
        notification = Notification.objects.get()
        assert notification.sent_at is None and notification.failed_at is None
        # The beat sweep sends it once the broker answers again.
        from tickets.tasks import SWEEP_GRACE, send_pending_notifications

        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0) + SWEEP_GRACE * 2):
            assert send_pending_notifications() == 1
            assert send_pending_notifications() == 0
        assert len(mail.outbox) == 1

    def test_the_history_records_the_report(self, customer_a_api, contract_a, customer_a_user):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            ticket_id = report(customer_a_api, contract_a).json()["id"]
        event = TicketEvent.objects.get(ticket_id=ticket_id)
        assert (event.field, event.new_value, event.actor) == ("status", "new", customer_a_user)

    def test_a_report_by_token_costs_ten_queries(self, customer_a_user, contract_a, django_assert_num_queries):
        from rest_framework.authtoken.models import Token

        from tests.conftest import api_client

        client = api_client()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=customer_a_user).key}")
        # 1 the token with its user; 2 the contract, if the user may see it, with its terms and
        # whether a later version of them exists (none: they are the terms in force); 3 SAVEPOINT
        # (ticket_create's transaction: outside a test it is BEGIN, which is not counted); 4 the
        # next ticket number, taken and read in one UPDATE; 5 the ticket; 6 its history entry;
        # 7 whether any TMF621 listener may hear of it (none: nobody is read); 8 the
        # acknowledgement; 9 whether the contract has account managers (none: nobody is read);
        # 10 RELEASE SAVEPOINT. The answer is the ticket as written: no read.
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            report(client, contract_a)  # the year's first report also starts the year's numbers
            with django_assert_num_queries(10):
                response = report(client, contract_a)
        assert response.status_code == 201, response.json()
        assert response.json()["number"] == "DST-2026-000002"


class TestBadInput:
    @pytest.mark.parametrize(
        ("overrides", "field", "fragment"),
        [
            ({"a_number": "hello"}, "a_number", "not a phone number"),
            ({"a_number": "018-1"}, "a_number", "not a valid phone number"),
            ({"a_number": "+46 70 123 45 67"}, "a_number", "only cover numbers in: AX, FI"),
            ({"b_number": "12"}, "b_number", ""),
            ({"a_number": ""}, "a_number", "D §16.9"),
            ({"b_number": ""}, "b_number", "D §16.9"),
            ({"fault_occurred_at": None}, "fault_occurred_at", "D §16.9"),
            ({"fault_occurred_at": "2026-10-01T14:00:00+03:00"}, "fault_occurred_at", "future"),
            ({"fault_occurred_at": "2026-10-01T09:00:00"}, "fault_occurred_at", "offset"),
            ({"description": ""}, "description", ""),
            ({"category": "complaint"}, "category", ""),
            ({"received_at": "2026-10-01T12:00:00+03:00"}, "received_at", "Only staff"),
            ({"channel": "phone"}, "channel", "set by the service"),
        ],
    )
    def test_is_refused_on_the_field_and_nothing_is_stored(
        self, customer_a_api, contract_a, overrides, field, fragment
    ):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            response = report(customer_a_api, contract_a, **overrides)
        assert response.status_code == 400
        body = response.json()
        assert field in body, body
        assert any(fragment in message for message in body[field]), body[field]
        assert not Ticket.objects.exists()
        assert not Notification.objects.exists()

    def test_telia_takes_only_swedish_a_numbers(self, staff_api, contract_b):
        with travel(at(STOCKHOLM, 2026, 10, 1, 13, 0)):
            response = report(staff_api, contract_b, a_number="+358 18 12345")
        assert response.status_code == 400
        assert "SE" in response.json()["a_number"][0]

    def test_staff_cannot_date_a_report_in_the_future(self, staff_api, contract_a):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            response = report(staff_api, contract_a, received_at="2026-10-01T13:30:00+03:00")
        assert response.status_code == 400
        assert "received_at" in response.json()

    def test_a_fault_after_the_report_is_refused(self, staff_api, contract_a):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            response = report(
                staff_api,
                contract_a,
                received_at="2026-10-01T10:00:00+03:00",
                fault_occurred_at="2026-10-01T11:00:00+03:00",
            )
        assert response.status_code == 400
        assert "after it was reported" in response.json()["fault_occurred_at"][0]

    def test_another_customers_contract_is_not_found(self, customer_a_api, contract_b):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            response = report(customer_a_api, contract_b)
        assert response.status_code == 400
        assert "does not exist" in response.json()["contract"][0]
        assert not Ticket.objects.exists()

    def test_a_support_request_needs_no_numbers(self, customer_a_api, contract_a):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            response = report(
                customer_a_api,
                contract_a,
                category="support",
                a_number="",
                b_number="",
                fault_occurred_at=None,
                description="Lägg till en licens för vår nya medarbetare.",
            )
        assert response.status_code == 201, response.json()

    def test_html_in_a_description_is_kept_as_plain_text(self, customer_a_api, contract_a):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            body = report(customer_a_api, contract_a, description="<script>alert(1)</script>").json()
        assert body["description"] == "<script>alert(1)</script>"


def make_ticket(client, contract, moment):
    with travel(moment):
        response = report(client, contract)
    assert response.status_code == 201, response.json()
    return response.json()


class TestWorkflow:
    def test_start_request_info_reply_resolve_close(self, staff_api, customer_a_api, contract_a):
        ticket = make_ticket(customer_a_api, contract_a, at(MARIEHAMN, 2026, 10, 1, 13, 0))
        url = f"/api/tickets/{ticket['id']}"
        with travel(at(MARIEHAMN, 2026, 10, 1, 14, 0)):
            started = staff_api.post(f"{url}/start/").json()
        assert started["status"] == "in_progress"
        assert utc(started["service_started_at"]) == at(MARIEHAMN, 2026, 10, 1, 14, 0)
        assert started["service_start_breached"] is False

        with travel(at(MARIEHAMN, 2026, 10, 1, 15, 0)):
            waiting = staff_api.post(f"{url}/request-info/", {"message": "Vilken telefonmodell?"}).json()
        assert waiting["status"] == "waiting_for_customer"
        assert utc(waiting["customer_reply_due"]) == at(MARIEHAMN, 2026, 10, 3, 15, 0)

        with travel(at(MARIEHAMN, 2026, 10, 2, 9, 0)):
            replied = customer_a_api.post(f"{url}/reply/", {"message": "Yealink T54W"}).json()
        assert replied["status"] == "in_progress"
        assert replied["customer_reply_due"] is None

        with travel(at(MARIEHAMN, 2026, 10, 2, 10, 0)):
            staff_api.post(f"{url}/classify/", {"classification": "fault"})
            resolved = staff_api.post(f"{url}/resolve/", {"message": "Firmware uppdaterad."}).json()
            closed = staff_api.post(f"{url}/close/", {}).json()
        assert resolved["status"] == "resolved"
        assert (closed["status"], closed["close_reason"], closed["classification"]) == (
            "closed",
            "resolved",
            "fault",
        )

    def test_illegal_transitions_answer_409_with_a_message(self, staff_api, customer_a_api, contract_a):
        ticket = make_ticket(customer_a_api, contract_a, at(MARIEHAMN, 2026, 10, 1, 13, 0))
        url = f"/api/tickets/{ticket['id']}"
        with travel(at(MARIEHAMN, 2026, 10, 1, 14, 0)):
            staff_api.post(f"{url}/start/")
            again = staff_api.post(f"{url}/start/")
            staff_api.post(f"{url}/close/", {"close_reason": "duplicate"})
            reply = customer_a_api.post(f"{url}/reply/", {"message": "Hallå?"})
        assert again.status_code == 409 and "cannot be started" in again.json()["detail"]
        assert reply.status_code == 409

    def test_a_late_start_is_a_breach(self, staff_api, customer_a_api, contract_a):
        ticket = make_ticket(customer_a_api, contract_a, at(MARIEHAMN, 2026, 10, 1, 13, 0))
        with travel(at(MARIEHAMN, 2026, 10, 1, 17, 0, 1)):
            body = staff_api.get(f"/api/tickets/{ticket['id']}/").json()
            assert body["service_start_breached"] is True
            started = staff_api.post(f"/api/tickets/{ticket['id']}/start/").json()
        assert started["service_start_breached"] is True
        with travel(at(MARIEHAMN, 2026, 10, 1, 17, 0, 0)):
            ticket2 = make_ticket(customer_a_api, contract_a, at(MARIEHAMN, 2026, 10, 1, 13, 0))
        with travel(at(MARIEHAMN, 2026, 10, 1, 17, 0, 0)):
            on_time = staff_api.post(f"/api/tickets/{ticket2['id']}/start/").json()
        assert on_time["service_start_breached"] is False

    def test_not_a_fault_needs_its_reason(self, staff_api, customer_a_api, contract_a):
        ticket = make_ticket(customer_a_api, contract_a, at(MARIEHAMN, 2026, 10, 1, 13, 0))
        url = f"/api/tickets/{ticket['id']}/classify/"
        missing = staff_api.post(url, {"classification": "not_fault"})
        assert missing.status_code == 400 and "not_fault_reason" in missing.json()
        done = staff_api.post(url, {"classification": "not_fault", "not_fault_reason": "customer_equipment"})
        assert done.json()["not_fault_reason"] == "customer_equipment"
        closed = staff_api.post(f"/api/tickets/{ticket['id']}/close/", {}).json()
        assert closed["close_reason"] == "not_a_fault"

    def test_customers_cannot_call_staff_actions(self, customer_a_api, contract_a):
        ticket = make_ticket(customer_a_api, contract_a, at(MARIEHAMN, 2026, 10, 1, 13, 0))
        for action in ("start", "request-info", "classify", "resolve", "close"):
            response = customer_a_api.post(f"/api/tickets/{ticket['id']}/{action}/", {"message": "x"})
            assert response.status_code == 403, action

    def test_internal_notes_are_for_staff_only(self, staff_api, customer_a_api, contract_a):
        ticket = make_ticket(customer_a_api, contract_a, at(MARIEHAMN, 2026, 10, 1, 13, 0))
        url = f"/api/tickets/{ticket['id']}"
        staff_api.post(f"{url}/reply/", {"message": "Kunden har gammal firmware", "internal": True})
        staff_api.post(f"{url}/reply/", {"message": "Vi tittar på det."})
        refused = customer_a_api.post(f"{url}/reply/", {"message": "psst", "internal": True})
        assert refused.status_code == 400
        staff_view = staff_api.get(f"{url}/messages/").json()["results"]
        customer_view = customer_a_api.get(f"{url}/messages/").json()["results"]
        assert [m["internal"] for m in staff_view] == [True, False]
        assert [m["body"] for m in customer_view] == ["Vi tittar på det."]


class TestIsolation:
    def test_another_customers_ticket_is_404_everywhere(self, staff_api, customer_a_api, contract_b):
        ticket = make_ticket(staff_api, contract_b, at(STOCKHOLM, 2026, 10, 1, 13, 0)) if False else None
        with travel(at(STOCKHOLM, 2026, 10, 1, 13, 0)):
            ticket = report(staff_api, contract_b, a_number="070-123 45 67").json()
        url = f"/api/tickets/{ticket['id']}"
        assert customer_a_api.get(f"{url}/").status_code == 404
        assert customer_a_api.get(f"{url}/messages/").status_code == 404
        assert customer_a_api.post(f"{url}/reply/", {"message": "x"}).status_code == 404
        assert customer_a_api.get("/api/tickets/").json()["count"] == 0

    def test_colleagues_of_the_same_customer_see_each_others_tickets(self, customer_a_api, customer_a, contract_a):
        from rest_framework.test import APIClient

        make_ticket(customer_a_api, contract_a, at(MARIEHAMN, 2026, 10, 1, 13, 0))
        colleague = APIClient()
        colleague.force_authenticate(CustomerUserFactory(customer=customer_a))
        assert colleague.get("/api/tickets/").json()["count"] == 1


class TestList:
    def test_filters_and_search(self, staff_api, contract_a, contract_b):
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            a = report(staff_api, contract_a, urgent=True).json()
            b = report(staff_api, contract_b, a_number="070-765 43 21").json()
        assert [t["id"] for t in staff_api.get("/api/tickets/?urgent=true").json()["results"]] == [a["id"]]
        assert [t["id"] for t in staff_api.get("/api/tickets/?q=070-765 43 21").json()["results"]] == [b["id"]]
        assert [t["id"] for t in staff_api.get(f"/api/tickets/?q={a['number']}").json()["results"]] == [a["id"]]
        assert [t["id"] for t in staff_api.get("/api/tickets/?terms=telia-smart-connect").json()["results"]] == [
            b["id"]
        ]
        with travel(at(MARIEHAMN, 2026, 10, 2, 9, 0)):
            breached = staff_api.get("/api/tickets/?breached=true").json()["results"]
        assert [t["id"] for t in breached] == [a["id"]]

    def test_the_list_runs_a_constant_number_of_queries(self, staff_api, staff_user, django_assert_max_num_queries):
        contracts = [ContractFactory() for _ in range(5)]
        with travel(at(MARIEHAMN, 2026, 10, 1, 13, 0)):
            for index, contract in enumerate(contracts * 6):
                ticket = Ticket.objects.get(pk=report(staff_api, contract).json()["id"])
                references.reference_add(ticket=ticket, actor=staff_user, url=f"https://f.example/{index}", name="log")
            with django_assert_max_num_queries(4):
                response = staff_api.get("/api/tickets/?page_size=100")
        assert response.json()["count"] == 30


class TestLinksToFiles:
    """Links to files kept elsewhere (added through TMF621) are read-only here, in
    `attachment_references`; every field of the ticket is as it was."""

    def test_the_ticket_lists_its_links_with_where_they_go(
        self, customer_a_api, staff_api, staff_user, customer_a_user, contract_a
    ):
        created = report(customer_a_api, contract_a).json()
        assert created["attachment_references"] == []
        ticket = Ticket.objects.get(pk=created["id"])
        staff_user.first_name = "Stina"
        staff_user.save()
        references.reference_add(
            ticket=ticket,
            actor=staff_user,
            url="https://files.operator.example/trace.pcap",
            name="Trace",
            mime_type="application/vnd.tcpdump.pcap",
            size=5120,
            description="Calls at 09:30",
        )
        references.reference_add(ticket=ticket, actor=customer_a_user, url="http://xn--bcher-kva.example/b", name="B")
        body = customer_a_api.get(f"/api/tickets/{ticket.pk}/").json()
        first, second = body["attachment_references"]
        assert {key: first[key] for key in ("name", "url", "host", "mime_type", "size", "description", "added_by")} == {
            "name": "Trace",
            "url": "https://files.operator.example/trace.pcap",
            "host": "files.operator.example",
            "mime_type": "application/vnd.tcpdump.pcap",
            "size": 5120,
            "description": "Calls at 09:30",
            "added_by": "Stina",  # a customer sees staff by first name
        }
        assert (second["host"], second["size"], second["added_by"]) == ("xn--bcher-kva.example", None, "alfa-user")
        assert staff_api.get(f"/api/tickets/{ticket.pk}/").json()["attachment_references"][0]["added_by"] == "staffer"
        assert set(body) - {"attachment_references"} == set(created) - {"attachment_references"}

    def test_two_answers_made_side_by_side_each_speak_to_their_own_reader(
        self, customer_a_api, staff_user, customer_a_user, contract_a, rf
    ):
        """Each serializer's fields, copied from those its class worked out once, are bound to it
        alone: one made for a customer and one for staff, both before either answers."""
        from tickets import services
        from tickets.api.serializers import TicketSerializer

        ticket = Ticket.objects.get(pk=report(customer_a_api, contract_a).json()["id"])
        staff_user.first_name = "Stina"
        staff_user.save()
        services.ticket_assign(ticket=ticket, actor=staff_user, assignee=staff_user)
        references.reference_add(ticket=ticket, actor=staff_user, url="https://f.example/trace", name="Trace")
        ticket = Ticket.objects.prefetch_related("attachment_references__added_by").get(pk=ticket.pk)
        readers = []
        for user in (customer_a_user, staff_user):
            request = rf.get("/api/tickets/")
            request.user = user
            readers.append(TicketSerializer(ticket, context={"request": request}))
        for serializer in readers:
            assert serializer.fields["assignee"].parent is serializer
        customer, staff = (serializer.data for serializer in readers)
        assert (customer["assignee"], customer["attachment_references"][0]["added_by"]) == ("Stina", "Stina")
        assert (staff["assignee"], staff["attachment_references"][0]["added_by"]) == ("staffer", "staffer")
        assert customer["allowed_actions"] == ["reply", "withdraw"] and "resolve" in staff["allowed_actions"]

    def test_links_are_not_written_here(self, customer_a_api, contract_a):
        created = report(customer_a_api, contract_a).json()
        link = {"name": "x", "url": "https://f.example/x"}
        response = customer_a_api.post(
            f"/api/tickets/{created['id']}/reply/", {"message": "m", "attachment_references": [link]}, format="json"
        )
        assert response.status_code == 400 and "attachment_references" in response.json()
