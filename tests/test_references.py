"""Links to files kept elsewhere (tickets.references): what is taken as an address, what is
refused with which words, and that a refusal writes nothing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from tickets import history, references, services
from tickets.models import AttachmentReference, Channel, TicketEvent, shown_host

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def ticket(contract_a, customer_a_user):
    return services.ticket_create(
        contract=contract_a,
        description="No incoming calls",
        channel=Channel.API,
        reported_by=customer_a_user,
        a_number="018-123 45",
        b_number="+46701234567",
        fault_occurred_at=datetime.datetime(2026, 11, 30, 9, 30, tzinfo=datetime.UTC),
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "Give the file's address"),
        ("ftp://files.example/x", "Only http and https addresses are taken, not ftp."),
        ("data:text/html,<script>alert(1)</script>", "Only http and https addresses are taken, not data."),
        ("files.example/x", "must start with http:// or https://"),
        ("https://", "names no host"),
        ("https://:8080/x", "names no host"),
        ("https://anna:secret@files.example/x", "user name or password"),
        ("https://anna@files.example/x", "user name or password"),
        ("https://files.example/a\tb", "a space, a control character or an invisible character"),
        ("https://files.example/a\nb", "a space, a control character or an invisible character"),
        ("https://files.example/\u200bx", "a space, a control character or an invisible character"),
        ("https://files.example/x\x00", "a space, a control character or an invisible character"),
        ("https://files.example\\.evil.example/", "backslash"),
        ("https://bank.example%2eevil.example/", "host name is percent-encoded"),
        ("https://[::1/x", "cannot be read as a URL"),
        ("https://files.example:http/x", "cannot be read as a URL"),
        ("https://" + "a" * 1992 + ".example", "2008 characters long; at most 2000"),
    ],
)
def test_an_address_that_is_no_plain_web_link_is_refused_and_nothing_is_written(ticket, customer_a_user, url, problem):
    with pytest.raises(ValidationError) as refused:
        references.reference_add(ticket=ticket, actor=customer_a_user, url=url, name="trace")
    assert list(refused.value.message_dict) == ["url"]
    assert problem in refused.value.message_dict["url"][0]
    assert not AttachmentReference.objects.exists()
    assert not TicketEvent.objects.filter(field="attachment").exists()


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        ({"name": " "}, "name", "Give the file a name."),
        ({"name": "x" * 256}, "name", "at most 255"),
        ({"name": "invoice\u202efdp.exe"}, "name", "control or invisible"),
        ({"mime_type": "application"}, "mime_type", "type/subtype"),
        ({"mime_type": "text/plain; charset=utf-8"}, "mime_type", "type/subtype"),
        ({"size": -1}, "size", "whole number of bytes"),
        ({"size": True}, "size", "whole number of bytes"),
        ({"size": 2**63}, "size", "whole number of bytes"),
        ({"description": "x" * 1001}, "description", "at most 1000"),
        ({"description": "a\x1bb"}, "description", "control or invisible"),
    ],
)
def test_each_other_field_is_refused_by_name(ticket, customer_a_user, fields, field, problem):
    arguments = {"url": "https://files.example/x", "name": "trace", **fields}
    with pytest.raises(ValidationError) as refused:
        references.reference_add(ticket=ticket, actor=customer_a_user, **arguments)
    assert problem in refused.value.message_dict[field][0]
    assert not AttachmentReference.objects.exists()


def test_a_link_is_kept_as_given_and_written_to_the_history(ticket, customer_a_user):
    reference = references.reference_add(
        ticket=ticket,
        actor=customer_a_user,
        url="  HTTPS://Files.Example/Share/Trace.pcap?a=1&b=2#t  ",
        name=" Trace ",
        mime_type="Application/Vnd.Tcpdump.Pcap",
        size=0,
        description="Line 1\r\nLine 2",
    )
    reference.refresh_from_db()
    assert reference.url == "https://Files.Example/Share/Trace.pcap?a=1&b=2#t"  # only the scheme is lowered
    assert (reference.name, reference.mime_type, reference.size) == ("Trace", "application/vnd.tcpdump.pcap", 0)
    assert reference.host == "files.example" and reference.added_by == customer_a_user
    entry = TicketEvent.objects.get(field="attachment")
    assert history.describe(entry, "Europe/Stockholm") == "alfa-user added a link to “Trace” on files.example."
    ticket.refresh_from_db()
    assert ticket.updated_at == reference.created_at


def test_a_field_sent_as_null_is_a_field_not_given(ticket):
    reference = references.reference_add(
        ticket=ticket, actor=None, url="http://f.example", name="b", mime_type=None, size=None, description=None
    )
    assert (reference.mime_type, reference.size, reference.description, reference.added_by) == ("", None, "", None)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://bücher.example/x", "xn--bcher-kva.example"),
        ("https://аpple.example/", "xn--pple-43d.example"),  # a Cyrillic а: not apple.example
        ("https://faß.example/", "xn--fa-hia.example"),  # as browsers map it (UTS #46), not fass.example
        ("http://[2001:db8::1]:8080/x", "[2001:db8::1]:8080"),
        ("https://FILES.example:443/", "files.example:443"),
    ],
)
def test_the_host_is_shown_as_the_browser_goes_there(url, host):
    assert shown_host(url) == host


def test_a_closed_ticket_takes_no_more_links(ticket, staff_user):
    services.ticket_close(ticket=ticket, actor=staff_user)
    with pytest.raises(services.TransitionNotAllowed):
        references.reference_add(ticket=ticket, actor=staff_user, url="https://files.example/x", name="x")
    assert not AttachmentReference.objects.exists()


def test_the_database_holds_only_web_links_with_a_name(ticket):
    for fields in ({"url": "javascript:alert(1)", "name": "x"}, {"url": "https://files.example/", "name": ""}):
        with pytest.raises(IntegrityError), transaction.atomic():
            AttachmentReference.objects.create(ticket=ticket, **fields)


def test_the_same_link_given_again_is_the_one_the_ticket_has(ticket, customer_a_user):
    """Two identical requests, even at once (the ticket's lock orders them), add one link."""
    first = references.reference_add(ticket=ticket, actor=customer_a_user, url="https://f.example/a", name="a")
    again = references.reference_add(ticket=ticket, actor=customer_a_user, url="https://f.example/a", name="a")
    other = references.reference_add(ticket=ticket, actor=customer_a_user, url="https://f.example/a", name="b")
    assert again == first and other != first
    assert AttachmentReference.objects.count() == 2
    assert TicketEvent.objects.filter(field="attachment").count() == 2
