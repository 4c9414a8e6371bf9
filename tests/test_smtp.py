"""Outgoing mail through a real SMTP server on loopback (aiosmtpd, started by the test)."""

import datetime
import email
import email.policy
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from tests.ports import free_port
from tickets import notifications, services
from tickets.models import Channel, Notification

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")


class Collect(Message):
    def __init__(self):
        super().__init__(message_class=email.message.EmailMessage)
        self.received = []

    def handle_message(self, message):
        self.received.append(message)


@pytest.fixture
def smtp_server(settings):
    handler = Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield handler
    controller.stop()


def test_the_acknowledgement_goes_out_with_number_message_id_text_and_html(smtp_server, contract_a, customer_a_user):
    customer_a_user.customer_membership.customer.contacts.create(
        name="Anna", email="anna@alfa.example", is_primary=True
    )
    moment = datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN)
    with time_machine.travel(moment, tick=False):
        ticket = services.ticket_create(
            contract=contract_a,
            reported_by=customer_a_user,
            channel=Channel.WEB,
            a_number="018 12345",
            b_number="040 123 4567",
            fault_occurred_at=moment,
            description="Samtal bryts.",
        )
        assert notifications.send(Notification.objects.get(ticket=ticket).pk) is True
    [received] = smtp_server.received
    parsed = email.message_from_bytes(received.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == f"[{ticket.number}] Din felanmälan har tagits emot"
    assert parsed["Message-ID"] == Notification.objects.get(ticket=ticket).message_id
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_body(("plain",)).get_content().count(ticket.number) >= 1
    assert "<p>" in parsed.get_body(("html",)).get_content()


def test_a_refusing_server_is_retried_and_recorded(settings, contract_a, customer_a_user):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens
    ticket = services.ticket_create(
        contract=contract_a,
        reported_by=customer_a_user,
        channel=Channel.WEB,
        a_number="018 12345",
        b_number="040 123 4567",
        fault_occurred_at=datetime.datetime(2026, 10, 1, 12, 0, tzinfo=MARIEHAMN),
        description="Samtal bryts.",
        now=datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN),
    )
    acknowledgement = Notification.objects.get(ticket=ticket)
    with pytest.raises(ConnectionRefusedError):
        notifications.send(acknowledgement.pk)
    acknowledgement.refresh_from_db()
    assert acknowledgement.attempts == 1 and "ConnectionRefusedError" in acknowledgement.last_error
