"""Beat's jobs on a travelled clock: D §16.7 closing, reminders, escalations, notifications."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from core.mail import MAX_ATTEMPTS, claim_lease
from tickets import notifications, services, tasks
from tickets.models import Channel, CloseReason, Message, Notification, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


def at(*args):
    return datetime.datetime(*args, tzinfo=MARIEHAMN)


def travel(moment):
    return time_machine.travel(moment, tick=False)


def deliver() -> int:
    """What a worker would do with every notification still waiting."""
    return sum(notifications.send(pk) for pk in Notification.objects.values_list("pk", flat=True))


@pytest.fixture
def contact(customer_a):
    return customer_a.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)


def new_ticket(contract, reporter, moment, **extra):
    with travel(moment):
        return services.ticket_create(
            contract=contract,
            reported_by=reporter,
            channel=Channel.WEB,
            a_number="018 12345",
            b_number="040 123 4567",
            fault_occurred_at=moment - MINUTE,
            description="Samtal bryts.",
            **extra,
        )


@pytest.fixture
def waiting(contract_a, customer_a_user, staff_user, contact):
    """A ticket waiting for the customer since 2026-10-01 14:00, due back 10-03 14:00."""
    ticket = new_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
    with travel(at(2026, 10, 1, 14, 0)):
        services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilken modell?")
    deliver()
    mail.outbox.clear()
    ticket.refresh_from_db()
    return ticket


class TestClosingUnansweredTickets:
    def test_open_at_47_59_closed_at_48_00(self, waiting):
        with travel(at(2026, 10, 3, 13, 59)):
            assert tasks.close_unanswered_tickets() == 0
        with travel(at(2026, 10, 3, 14, 0)):
            assert tasks.close_unanswered_tickets() == 1
        waiting.refresh_from_db()
        assert waiting.status == Status.CLOSED
        assert waiting.close_reason == CloseReason.NO_CUSTOMER_FEEDBACK
        assert waiting.customer_reply_due is None
        assert waiting.closed_at == at(2026, 10, 3, 14, 0)

    def test_closing_writes_history_one_message_and_one_mail(self, waiting):
        with travel(at(2026, 10, 3, 14, 0)):
            tasks.close_unanswered_tickets()
            tasks.close_unanswered_tickets()
            deliver()
            deliver()
        fields = list(TicketEvent.objects.filter(ticket=waiting, note="no-answer").values_list("field", "new_value"))
        assert fields == [("status", "closed"), ("close_reason", "no_customer_feedback")]
        closing = Message.objects.filter(ticket=waiting, body__contains="D §16.7")
        assert closing.count() == 1 and not closing.get().internal
        assert "2026-10-03 14:00" in closing.get().body  # the deadline in Åland's time
        assert len(mail.outbox) == 1
        assert mail.outbox[0].subject == f"[{waiting.number}] Ditt ärende har stängts"

    def test_a_reply_at_47_59_wins(self, waiting, customer_a_user):
        with travel(at(2026, 10, 3, 13, 59)):
            services.ticket_reply(ticket=waiting, actor=customer_a_user, message="Yealink T54W")
        with travel(at(2026, 10, 3, 14, 0)):
            assert tasks.close_unanswered_tickets() == 0
        waiting.refresh_from_db()
        assert waiting.status == Status.IN_PROGRESS

    def test_after_days_down_every_overdue_ticket_is_closed_exactly_once(
        self, contract_a, customer_a_user, staff_user, contact
    ):
        tickets = []
        for day in range(5):
            ticket = new_ticket(contract_a, customer_a_user, at(2026, 10, 5 + day, 9, 0))
            with travel(at(2026, 10, 5 + day, 10, 0)):
                services.ticket_request_info(ticket=ticket, actor=staff_user, message="?")
            tickets.append(ticket)
        with travel(at(2026, 10, 20, 3, 0)):
            assert services.close_unanswered(batch=2) == 5
            assert tasks.close_unanswered_tickets() == 0
        assert Ticket.objects.filter(status=Status.CLOSED).count() == 5
        assert Notification.objects.filter(kind="closed").count() == 5

    def test_a_batch_writes_each_ticket_its_history_message_and_mail(self, contract_a, customer_a_user, staff_user):
        """Written for the whole batch at once, yet each ticket gets what closing it alone would
        write: its two history entries in order, the message in its customer's language, and
        a closing mail decided and not yet sent."""
        from tests.factories import ContractFactory, CustomerFactory

        english = ContractFactory(customer=CustomerFactory(language="en"), terms=contract_a.terms)
        tickets = []
        for contract in (contract_a, english, contract_a):
            ticket = new_ticket(
                contract, customer_a_user if contract == contract_a else staff_user, at(2026, 10, 1, 9, 0)
            )
            with travel(at(2026, 10, 1, 10, 0)):
                services.ticket_request_info(ticket=ticket, actor=staff_user, message="?")
            tickets.append(ticket)
        closed_at = at(2026, 10, 5, 3, 0)
        with travel(closed_at):
            assert services.close_unanswered(batch=10) == 3
        for ticket, opening in zip(
            tickets, ["Vi fick inget svar", "We did not hear", "Vi fick inget svar"], strict=True
        ):
            entries = TicketEvent.objects.filter(ticket=ticket, note="no-answer").order_by("at", "pk")
            assert [(e.field, e.old_value, e.new_value, e.actor_id, e.at) for e in entries] == [
                ("status", Status.WAITING_FOR_CUSTOMER, Status.CLOSED, None, closed_at),
                ("close_reason", None, CloseReason.NO_CUSTOMER_FEEDBACK, None, closed_at),
            ]
            [message] = Message.objects.filter(ticket=ticket, from_desk=True)
            assert message.body.startswith(opening) and "2026-10-03 10:00" in message.body
            assert (message.channel, message.internal, message.author_id) == (Channel.EMAIL, False, None)
            [closing] = Notification.objects.filter(ticket=ticket, kind="closed")
            assert closing.message == message.body
            assert (closing.recipients, closing.attempts, closing.sent_at, closing.failed_at) == ([], 0, None, None)
            assert closing.created_at is not None and closing.recipient_user_id is None

    def test_a_batch_asks_the_database_as_often_however_many_tickets_it_closes(
        self, contract_a, customer_a_user, staff_user
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def close(count: int, day: int) -> int:
            for _ in range(count):
                ticket = new_ticket(contract_a, customer_a_user, at(2026, 10, day, 9, 0))
                with travel(at(2026, 10, day, 10, 0)):
                    services.ticket_request_info(ticket=ticket, actor=staff_user, message="?")
            with CaptureQueriesContext(connection) as queries, travel(at(2026, 10, day + 3, 10, 0)):
                assert services.close_unanswered() == count
            return len(queries)

        assert close(2, 1) == close(6, 10)

    def test_a_closing_writes_no_index_nothing_reads(self, db):
        """Every closing writes an entry into each index of the ticket table (its status is in
        several, so PostgreSQL cannot update the row in place): none may be one nothing uses,
        such as a prefix-pattern index on the number (Django's companion of a unique text
        column; numbers are looked up whole, or in part by trigrams)."""
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("PostgreSQL's own index")
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'tickets_ticket'")
            definitions = [definition for (definition,) in cursor.fetchall()]
        assert not [definition for definition in definitions if "pattern_ops" in definition]
        assert any("(number)" in definition and "UNIQUE" in definition for definition in definitions)
        assert any("number gin_trgm_ops" in definition for definition in definitions)

    def test_a_customer_without_e_mail_is_still_closed_and_staff_see_why(self, contract_a, staff_user, staff_api):
        ticket = new_ticket(contract_a, staff_user, at(2026, 10, 1, 13, 0))
        with travel(at(2026, 10, 1, 14, 0)):
            services.ticket_request_info(ticket=ticket, actor=staff_user, message="?")
        with travel(at(2026, 10, 3, 14, 0)):
            tasks.close_unanswered_tickets()
            deliver()
        ticket.refresh_from_db()
        assert ticket.status == Status.CLOSED
        closing = Notification.objects.get(ticket=ticket, kind="closed")
        assert closing.failed_at is not None and "No e-mail address" in closing.last_error
        from django.test import Client

        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(staff_user)
        assert "No e-mail address" in client.get(f"/desk/tickets/{ticket.number}/").content.decode()

    def test_a_broken_mail_server_never_loses_a_closing(self, waiting, settings):
        settings.EMAIL_BACKEND = "tests.mail_backends.RefusingBackend"
        with travel(at(2026, 10, 3, 14, 0)):
            tasks.close_unanswered_tickets()
        closing = Notification.objects.get(ticket=waiting, kind="closed")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            with pytest.raises(Exception, match="unexpectedly closed"):
                notifications.send(closing.pk)
            closing.refresh_from_db()
            assert closing.attempts == attempt
        assert closing.failed_at is not None and "SMTPServerDisconnected" in closing.last_error
        assert notifications.send(closing.pk) is False  # given up: visible, not retried forever
        waiting.refresh_from_db()
        assert waiting.status == Status.CLOSED


def mail_answer(ticket, text: str, arrived: datetime.datetime) -> bytes:
    return (
        f"Received: from mx.alfa.example by mx.desk.example; {arrived.strftime('%a, %d %b %Y %H:%M:%S %z')}\r\n"
        f"From: Anna <anna@alfa.example>\r\nTo: support@desk.example\r\n"
        f"Subject: SV: [{ticket.number}] Vi behöver mer information\r\n"
        f"Message-ID: <{arrived.timestamp():.0f}@alfa.example>\r\nDate: {arrived.strftime('%a, %d %b %Y %H:%M:%S %z')}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{text}\r\n"
    ).encode()


@pytest.fixture(params=["portal", "api", "email"])
def answer(request, customer_a_user):
    """The customer's answer through one channel, reaching the server now; returns what the
    customer (or, for a mail, staff's inbox) is told when it is not taken."""
    from django.test import Client

    from tests.conftest import api_client
    from tickets import inbound
    from tickets.models import InboundEmail

    def send(ticket, text: str) -> str:
        if request.param == "portal":
            client = Client(HTTP_ACCEPT_LANGUAGE="en")
            client.force_login(customer_a_user)
            page = client.post(f"/portal/tickets/{ticket.number}/", {"message": text}, follow=True)
            assert page.status_code == 200
            return page.content.decode()
        if request.param == "api":
            client = api_client()
            client.force_authenticate(customer_a_user)
            response = client.post(f"/api/tickets/{ticket.pk}/reply/", {"message": text})
            assert response.status_code in (200, 409), response.content
            return response.json().get("detail", "")
        record = inbound.receive(mail_answer(ticket, text, timezone.now()))
        assert record.outcome in (InboundEmail.Outcome.REPLY, InboundEmail.Outcome.UNMATCHED)
        return record.note

    send.via = request.param
    return send


class TestOneRuleForAReplyOnEveryChannel:
    """D §16.7 on the portal, the API and e-mail alike, decided by when the reply reached us."""

    def test_a_reply_a_minute_before_the_deadline_resumes_the_ticket(self, waiting, answer):
        with travel(at(2026, 10, 3, 13, 59)):
            answer(waiting, "Yealink T54W")
        with travel(at(2026, 10, 3, 14, 3)):
            assert tasks.close_unanswered_tickets() == 0
        waiting.refresh_from_db()
        assert waiting.status == Status.IN_PROGRESS and waiting.customer_reply_due is None
        assert waiting.messages.filter(body__contains="Yealink T54W").exists()

    def test_a_reply_a_minute_after_the_deadline_resumes_nothing_before_the_sweep(self, waiting, answer):
        with travel(at(2026, 10, 3, 14, 1)):  # the sweep has not run yet
            said = answer(waiting, "Yealink T54W")
        # Told with the deadline in Åland's time; a mail's note for staff is in the desk's language.
        told = "Svaret kom efter svarsfristen" if answer.via == "email" else "The answer came after the reply deadline"
        assert f"{told} 2026-10-03 14:00" in said
        waiting.refresh_from_db()
        assert waiting.status == Status.WAITING_FOR_CUSTOMER
        assert not waiting.messages.filter(body__contains="Yealink T54W").exists()
        assert not TicketEvent.objects.filter(ticket=waiting, note="customer-answered").exists()
        with travel(at(2026, 10, 3, 14, 3)):
            assert tasks.close_unanswered_tickets() == 1
            deliver()
        waiting.refresh_from_db()
        assert (waiting.status, waiting.close_reason) == (Status.CLOSED, CloseReason.NO_CUSTOMER_FEEDBACK)
        assert [m.subject for m in mail.outbox] == [f"[{waiting.number}] Ditt ärende har stängts"]

    def test_a_reply_after_the_sweep_closed_the_ticket_does_not_reopen_it(self, waiting, answer):
        with travel(at(2026, 10, 3, 14, 3)):
            tasks.close_unanswered_tickets()
        with travel(at(2026, 10, 3, 14, 5)):
            answer(waiting, "Yealink T54W")
        waiting.refresh_from_db()
        assert waiting.status == Status.CLOSED
        assert not waiting.messages.filter(body__contains="Yealink T54W").exists()


class TestReminder:
    def test_one_reminder_when_half_the_reply_time_is_left(self, waiting):
        with travel(at(2026, 10, 2, 13, 59)):
            assert tasks.remind_waiting_customers() == 0
        with travel(at(2026, 10, 2, 14, 0)):
            assert tasks.remind_waiting_customers() == 1
            assert tasks.remind_waiting_customers() == 0
            deliver()
        assert len(mail.outbox) == 1
        assert "Påminnelse" in mail.outbox[0].subject  # the customer's language: Swedish
        assert "2026-10-03 14:00" in mail.outbox[0].body

    def test_the_reminder_speaks_the_customers_language(self, waiting, customer_a):
        customer_a.language = "en"
        customer_a.save()
        with travel(at(2026, 10, 2, 14, 0)):
            tasks.remind_waiting_customers()
            deliver()
        assert mail.outbox[0].subject == f"[{waiting.number}] Reminder: we are waiting for your answer"

    def test_no_reminder_after_the_customer_answered(self, waiting, customer_a_user):
        with travel(at(2026, 10, 2, 9, 0)):
            services.ticket_reply(ticket=waiting, actor=customer_a_user, message="Svar")
        with travel(at(2026, 10, 2, 14, 0)):
            assert tasks.remind_waiting_customers() == 0

    def test_a_new_request_gets_its_own_reminder(self, waiting, customer_a_user, staff_user):
        with travel(at(2026, 10, 2, 14, 0)):
            tasks.remind_waiting_customers()
            services.ticket_reply(ticket=waiting, actor=customer_a_user, message="Svar")
            services.ticket_request_info(ticket=waiting, actor=staff_user, message="Och firmware?")
        with travel(at(2026, 10, 3, 14, 0)):
            assert tasks.remind_waiting_customers() == 1


class TestEscalation:
    def test_staff_are_warned_once_near_the_deadline_and_told_once_of_the_breach(
        self, contract_a, customer_a_user, settings
    ):
        settings.SUPPORT_TEAM_EMAIL = "team@desk.example"
        ticket = new_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))  # due 17:00
        assert ticket.service_start_warn_at == at(2026, 10, 1, 16, 0)
        with travel(at(2026, 10, 1, 15, 59)):
            assert tasks.escalate_service_starts() == [0, 0]
        with travel(at(2026, 10, 1, 16, 0)):
            assert tasks.escalate_service_starts() == [1, 0]
            assert tasks.escalate_service_starts() == [0, 0]
        with travel(at(2026, 10, 1, 17, 0, 1)):
            assert tasks.escalate_service_starts() == [0, 1]
            assert tasks.escalate_service_starts() == [0, 0]
            deliver()
        kinds = list(
            Notification.objects.filter(ticket=ticket).exclude(kind="acknowledgement").values_list("kind", "recipients")
        )
        assert kinds == [
            ("escalation_near", ["team@desk.example"]),
            ("escalation_breached", ["team@desk.example"]),
        ]

    def test_the_assignee_is_told_and_a_started_ticket_is_left_alone(self, contract_a, customer_a_user, staff_user):
        first = new_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
        second = new_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 5))
        services.ticket_assign(ticket=first, actor=staff_user, assignee=staff_user)
        with travel(at(2026, 10, 1, 14, 0)):
            services.ticket_start(ticket=second, actor=staff_user)
        with travel(at(2026, 10, 1, 18, 0)):
            assert tasks.escalate_service_starts() == [0, 1]
            deliver()
        breach = Notification.objects.get(kind="escalation_breached")
        assert breach.ticket == first and breach.recipients == ["staffer@desk.example"]
        staff_mail = [m for m in mail.outbox if m.to == ["staffer@desk.example"]]
        assert "/desk/tickets/" + first.number in staff_mail[0].body

    def test_a_warned_ticket_is_marked_in_the_queue(self, contract_a, customer_a_user, staff_user):
        from django.test import Client

        ticket = new_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(staff_user)
        with travel(at(2026, 10, 1, 16, 10)):
            tasks.escalate_service_starts()
            assert "Due soon" in client.get("/desk/").content.decode()
        assert ticket.number in client.get("/desk/").content.decode()


class TestNotificationDelivery:
    def test_the_sweep_sends_what_the_broker_never_delivered_once(self, contract_a, customer_a_user, contact):
        new_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
        with travel(at(2026, 10, 1, 13, 1)):
            assert tasks.send_pending_notifications() == 0  # still on its way
        with travel(at(2026, 10, 1, 13, 5)):
            assert tasks.send_pending_notifications() == 1
            assert tasks.send_pending_notifications() == 0
        assert len(mail.outbox) == 1
        assert mail.outbox[0].alternatives[0][1] == "text/html"


class TestMailInOrder:
    """A ticket's mails leave in the order they were written, whatever the broker lost."""

    def test_after_a_broker_outage_the_acknowledgement_leaves_before_the_closing_mail(
        self, contract_a, customer_a_user, staff_user, contact
    ):
        # The broker is down: the acknowledgement's task never reaches a worker.
        ticket = new_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
        with travel(at(2026, 10, 1, 13, 1)):  # the broker is back when staff close the report
            services.ticket_close(ticket=ticket, actor=staff_user, close_reason="resolved")
            acknowledgement, closing = Notification.objects.filter(ticket=ticket).order_by("created_at", "pk")
            assert (acknowledgement.kind, closing.kind) == ("acknowledgement", "closed")
            assert tasks.send_notification(closing.pk) is False  # its task came first: it waits
            assert tasks.send_pending_notifications() == 0  # the acknowledgement is within the grace
        assert mail.outbox == []
        with travel(at(2026, 10, 1, 13, 3)):
            tasks.send_pending_notifications()
        acknowledgement.refresh_from_db()
        closing.refresh_from_db()
        assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [acknowledgement.message_id, closing.message_id]
        assert acknowledgement.sent_at == closing.sent_at == at(2026, 10, 1, 13, 3)

    def test_a_later_mail_waits_for_a_refused_one_and_follows_it(
        self, contract_a, customer_a_user, staff_user, contact, settings
    ):
        ticket = new_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
        with travel(at(2026, 10, 1, 13, 1)):
            services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilken modell?")
        acknowledgement, question = Notification.objects.filter(ticket=ticket).order_by("created_at", "pk")
        settings.EMAIL_BACKEND = "tests.mail_backends.RefusingBackend"
        with travel(at(2026, 10, 1, 13, 2)), pytest.raises(Exception, match="unexpectedly closed"):
            notifications.send(acknowledgement.pk)  # refused: the task retries it
        with travel(at(2026, 10, 1, 13, 2)):
            assert notifications.send(question.pk) is False
        question.refresh_from_db()
        assert question.attempts == 0 and question.sent_at is None
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        with travel(at(2026, 10, 1, 13, 3)):
            assert notifications.send(acknowledgement.pk) is True  # the retry, and the question right after
        question.refresh_from_db()
        assert question.sent_at == at(2026, 10, 1, 13, 3)
        assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [
            Notification.objects.get(pk=acknowledgement.pk).message_id,
            question.message_id,
        ]

    def test_a_given_up_mail_holds_nothing_back(self, contract_a, customer_a_user, staff_user, contact, settings):
        ticket = new_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
        with travel(at(2026, 10, 1, 13, 1)):
            services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilken modell?")
        acknowledgement, question = Notification.objects.filter(ticket=ticket).order_by("created_at", "pk")
        settings.EMAIL_BACKEND = "tests.mail_backends.RefusingBackend"
        for _attempt in range(MAX_ATTEMPTS - 1):
            with pytest.raises(Exception, match="unexpectedly closed"):
                notifications.send(acknowledgement.pk)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        Notification.objects.filter(pk=acknowledgement.pk).update(failed_at=timezone.now())  # given up
        assert notifications.send(question.pk) is True
        assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [
            Notification.objects.get(pk=question.pk).message_id
        ]

    def test_a_mail_to_staff_does_not_wait_for_the_customers(self, contract_a, customer_a_user, settings):
        settings.SUPPORT_TEAM_EMAIL = "team@desk.example"
        ticket = new_ticket(contract_a, customer_a_user, at(2026, 10, 1, 13, 0))
        with travel(at(2026, 10, 1, 13, 1)):
            notifications.post(ticket, notifications.Kind.ESCALATION_BREACHED)
        breached = Notification.objects.get(ticket=ticket, kind="escalation_breached")
        assert Notification.objects.get(ticket=ticket, kind="acknowledgement").sent_at is None
        assert notifications.send(breached.pk) is True
        assert mail.outbox[0].to == ["team@desk.example"]


@pytest.mark.django_db(transaction=True)
def test_a_notification_is_claimed_and_committed_before_the_mail_server_is_spoken_to(
    seeded, settings, contract_a, customer_a_user
):
    """A slow mail server never holds a row lock: no transaction is open while it is spoken to.
    A fresh claim keeps a second worker off the row; an abandoned one is sent again."""
    from tests.mail_backends import TransactionWitnessBackend

    settings.EMAIL_BACKEND = "tests.mail_backends.TransactionWitnessBackend"
    TransactionWitnessBackend.sent = []
    ticket = services.ticket_create(
        contract=contract_a,
        reported_by=customer_a_user,
        channel="web",
        category="support",
        description="Vidarekoppling till mobil?",
    )
    row = Notification.objects.get(ticket=ticket)
    now = timezone.now()
    Notification.objects.filter(pk=row.pk).update(claimed_at=now)  # another worker is sending it
    assert notifications.send(row.pk, now=now + datetime.timedelta(minutes=1)) is False
    assert TransactionWitnessBackend.sent == []
    assert notifications.send(row.pk, now=now + claim_lease() + datetime.timedelta(seconds=1))
    ((message, in_transaction),) = TransactionWitnessBackend.sent
    assert in_transaction is False and ticket.number in message.subject
    row.refresh_from_db()
    assert row.sent_at is not None and row.claimed_at is None and row.attempts == 1
    assert notifications.send(row.pk) is False  # sent once
