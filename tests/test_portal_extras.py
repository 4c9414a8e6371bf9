"""What customers expect of a ticket beyond writing on it: colleagues who receive its e-mails too,
image attachments shown on the page, and a "How did we do?" once it is resolved, with the monthly
score per customer for staff."""

import datetime
import re
import struct
import zlib
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail, signing
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ContactPersonFactory, ContractFactory, CustomerFactory, CustomerUserFactory, fault_report
from tickets import attachments, notifications, references, satisfaction, services
from tickets.models import Attachment, Notification, Satisfaction, TicketEvent, TicketWatcher

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 1, 10, 0, tzinfo=MARIEHAMN)


def tiny_png() -> bytes:
    """A real 1×1 PNG, made here rather than kept as a binary file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def report(contract, actor, **overrides):
    return fault_report(contract, actor, NOW, **overrides)


def resolve(ticket, staff):
    services.ticket_classify(ticket=ticket, actor=staff, classification="fault")
    return services.ticket_resolve(ticket=ticket, actor=staff, message="Växeln är omstartad.")


def sent(notification):
    """The mail sent for `notification`, after the ticket's earlier mails (they leave in order)."""
    mail.outbox.clear()
    for pk in Notification.objects.filter(ticket=notification.ticket, pk__lte=notification.pk).values_list(
        "pk", flat=True
    ):
        notifications.send(pk)
    notification.refresh_from_db()
    (message,) = [m for m in mail.outbox if m.extra_headers["Message-ID"] == notification.message_id]
    return message


def sent_to(ticket, kind) -> list[str]:
    return sent(Notification.objects.filter(ticket=ticket, kind=kind).latest("id")).to


@pytest.fixture
def portal(client, customer_a_user):
    client.force_login(customer_a_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def people(customer_a):
    customer_a.contacts.create(name="Anna Eriksson", email="anna@alfa.example", is_primary=True)
    return {
        "bo": CustomerUserFactory(
            customer=customer_a, username="bo", email="bo@alfa.example", first_name="Bo", last_name="Ek"
        ),
        "kim": ContactPersonFactory(customer=customer_a, name="Kim Region", email="kim@alfa.example"),
    }


def add(client, ticket, choice):
    return client.post(f"/portal/tickets/{ticket.number}/watchers/", {"colleague": choice}, follow=True)


# Colleagues on a ticket's e-mails --------------------------------------------------------------


def test_a_customer_adds_colleagues_who_then_receive_the_tickets_mails(
    portal, customer_a_user, contract_a, people, staff_user
):
    ticket = report(contract_a, customer_a_user)
    page = portal.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert f'value="user:{people["bo"].pk}">Bo Ek &lt;bo@alfa.example&gt;' in page
    assert f'value="contact:{people["kim"].pk}">Kim Region &lt;kim@alfa.example&gt;' in page
    assert "anna@alfa.example&gt;" not in page  # the main contact receives them already

    answer = add(portal, ticket, f"user:{people['bo'].pk}")
    assert "Bo Ek now receives this ticket&#x27;s e-mails too." in answer.content.decode()
    add(portal, ticket, f"contact:{people['kim'].pk}")
    services.ticket_reply(ticket=ticket, actor=staff_user, message="Vi tittar på det.")
    assert sent_to(ticket, "reply") == [
        "alfa-user@customer.example",
        "anna@alfa.example",
        "bo@alfa.example",
        "kim@alfa.example",
    ]
    # Mail to staff about the ticket goes to staff only.
    assert "bo@alfa.example" not in notifications.recipients_for(ticket, "escalation_near")
    assert TicketEvent.objects.filter(ticket=ticket, field="watcher", new_value="Bo Ek", actor=customer_a_user).exists()

    bo = TicketWatcher.objects.get(ticket=ticket, user=people["bo"])
    page = portal.post(f"/portal/tickets/{ticket.number}/watchers/{bo.pk}/remove/", follow=True).content.decode()
    assert "Bo Ek no longer receives this ticket&#x27;s e-mails." in page
    services.ticket_reply(ticket=ticket, actor=staff_user, message="Strax klart.")
    assert sent_to(ticket, "reply") == ["alfa-user@customer.example", "anna@alfa.example", "kim@alfa.example"]


def test_each_address_gets_one_mail_and_nobody_is_added_twice(
    portal, customer_a_user, contract_a, people, customer_a, staff_user
):
    ticket = report(contract_a, customer_a_user)
    same_as_reporter = ContactPersonFactory(customer=customer_a, name="Alfa Desk", email="ALFA-USER@customer.example")
    add(portal, ticket, f"contact:{same_as_reporter.pk}")
    add(portal, ticket, f"user:{people['bo'].pk}")
    again = add(portal, ticket, f"user:{people['bo'].pk}").content.decode()
    assert "Bo Ek already receives this ticket&#x27;s e-mails." in again
    reporter = add(portal, ticket, f"user:{customer_a_user.pk}").content.decode()
    assert "reported the ticket and already receives its e-mails." in reporter
    main = add(portal, ticket, f"contact:{customer_a.contacts.get(is_primary=True).pk}").content.decode()
    assert "is the main contact person and already receives every ticket&#x27;s e-mails." in main
    nonsense = add(portal, ticket, "everyone").content.decode()
    assert "Choose a colleague from the list." in nonsense
    assert TicketWatcher.objects.filter(ticket=ticket).count() == 2
    services.ticket_reply(ticket=ticket, actor=staff_user, message="Svar")
    assert sent_to(ticket, "reply") == ["alfa-user@customer.example", "anna@alfa.example", "bo@alfa.example"]


def test_nobody_of_another_customer_is_added_or_seen(portal, client, customer_a_user, contract_a, contract_b, people):
    ticket = report(contract_a, customer_a_user)
    stranger = CustomerUserFactory(customer=contract_b.customer, username="beta-bo", email="bo@beta.example")
    their_contact = ContactPersonFactory(customer=contract_b.customer, name="Beta Kontakt", email="k@beta.example")
    page = portal.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "beta.example" not in page
    for choice in (f"user:{stranger.pk}", f"contact:{their_contact.pk}", "user:999999"):
        answer = add(portal, ticket, choice).content.decode()
        assert "Only your own organisation&#x27;s users and contact persons can be added." in answer or (
            "Choose a colleague from the list." in answer
        )
        assert "beta.example" not in answer and "Beta Kontakt" not in answer
    assert not TicketWatcher.objects.exists()

    watcher = services.watcher_add(ticket=ticket, actor=customer_a_user, user=people["bo"])
    client.force_login(stranger)
    url = f"/portal/tickets/{ticket.number}/watchers/"
    assert client.post(url, {"colleague": f"user:{stranger.pk}"}).status_code == 404
    assert client.post(f"{url}{watcher.pk}/remove/").status_code == 404
    assert list(TicketWatcher.objects.values_list("user_id", flat=True)) == [people["bo"].pk]


def test_a_closed_ticket_takes_no_new_colleague(portal, customer_a_user, contract_a, people):
    ticket = report(contract_a, customer_a_user)
    services.ticket_withdraw(ticket=ticket, actor=customer_a_user)
    assert 'name="colleague"' not in portal.get(f"/portal/tickets/{ticket.number}/").content.decode()
    answer = add(portal, ticket, f"user:{people['bo'].pk}").content.decode()
    assert "A closed ticket sends no more e-mails: nobody can be added to it." in answer
    assert not TicketWatcher.objects.exists()


def test_a_colleague_who_left_the_customer_gets_no_more_mail(
    customer_a_user, contract_a, contract_b, people, staff_user
):
    ticket = report(contract_a, customer_a_user)
    services.watcher_add(ticket=ticket, actor=customer_a_user, user=people["bo"])
    membership = people["bo"].customer_membership
    membership.customer = contract_b.customer
    membership.save()
    assert "bo@alfa.example" not in notifications.recipients_for(ticket, "reply")


def test_staff_see_the_colleagues_on_the_desk_and_take_one_off(client, staff_user, customer_a_user, contract_a, people):
    ticket = report(contract_a, customer_a_user)
    watcher = services.watcher_add(ticket=ticket, actor=customer_a_user, contact=people["kim"])
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    watchers = page.split('data-testid="watchers"')[1].split("</ul>")[0]
    assert "Kim Region" in watchers and "kim@alfa.example" in watchers and "added by alfa-user" in watchers
    page = client.post(f"/desk/tickets/{ticket.number}/watchers/{watcher.pk}/remove/", follow=True).content.decode()
    assert "Kim Region no longer receives this ticket&#x27;s e-mails." in page
    assert "staffer took Kim Region off the ticket&#x27;s e-mails." in page
    assert not TicketWatcher.objects.exists()


def test_the_ticket_pages_run_a_constant_number_of_queries(
    client, media, customer_a, customer_a_user, contract_a, staff_user
):
    def count(path) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    def ticket_with(people: int):
        ticket = report(contract_a, customer_a_user)
        for i in range(people):
            colleague = CustomerUserFactory(customer=customer_a, first_name=f"Kollega {i}")
            services.watcher_add(ticket=ticket, actor=customer_a_user, user=colleague)
            contact = ContactPersonFactory(customer=customer_a)
            services.watcher_add(ticket=ticket, actor=customer_a_user, contact=contact)
            upload(ticket, f"bild-{i}.png", tiny_png(), customer_a_user)
            references.reference_add(
                ticket=ticket, actor=customer_a_user if i % 2 else staff_user, url=f"https://f.example/{i}", name=f"{i}"
            )
        return ticket

    small, big = ticket_with(1), ticket_with(8)
    for user, page in ((customer_a_user, "/portal/tickets/{}/"), (staff_user, "/desk/tickets/{}/")):
        client.force_login(user)
        assert count(page.format(big.number)) == count(page.format(small.number)), page


# Image previews --------------------------------------------------------------------------------


def upload(ticket, name, content, actor, message=None):
    checked = attachments.upload_problems([SimpleUploadedFile(name, content)])[0]
    return attachments.store(ticket, checked, actor=actor, message=message)[0]


def stored_as(ticket, name, content, content_type):
    """A row as a bug or an older version might have left it: the type says one thing, the
    bytes another."""
    attachment = Attachment(ticket=ticket, filename=name, content_type=content_type, size=len(content))
    attachment.file.save(name, ContentFile(content), save=False)
    attachment.save()
    return attachment


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_image_is_shown_on_the_page_and_served_inline_with_locked_down_headers(
    portal, media, customer_a_user, contract_a
):
    ticket = report(contract_a, customer_a_user)
    image = upload(ticket, "skärmbild.png", tiny_png(), customer_a_user)
    page = portal.get(f"/portal/tickets/{ticket.number}/").content.decode()
    preview = f"/tickets/{ticket.number}/attachments/{image.pk}/preview/"
    assert f'<img src="{preview}" alt="skärmbild.png" loading="lazy">' in page

    response = portal.get(preview)
    assert response.status_code == 200 and body(response) == tiny_png()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    download = portal.get(f"/tickets/{ticket.number}/attachments/{image.pk}/")
    assert download["Content-Disposition"].startswith("attachment;")


def test_what_is_not_verifiably_a_raster_image_is_never_shown_inline(portal, media, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    svg = upload(
        ticket, "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', customer_a_user
    )
    claimed_svg = stored_as(ticket, "logo2.svg", b"<svg><script>alert(1)</script></svg>", "image/svg+xml")
    html_as_png = stored_as(ticket, "fake.png", b"<html><script>alert(1)</script></html>", "image/png")
    png_as_jpeg = stored_as(ticket, "mixed.jpg", tiny_png(), "image/jpeg")
    page = portal.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "<img" not in page
    for attachment in (svg, claimed_svg, html_as_png, png_as_jpeg):
        assert portal.get(f"/tickets/{ticket.number}/attachments/{attachment.pk}/preview/").status_code == 404
        assert f'attachments/{attachment.pk}/"' in page  # still there to download


def test_another_customer_and_internal_notes_images_are_not_found(
    client, portal, media, customer_a_user, contract_a, contract_b, staff_user
):
    ticket = report(contract_a, customer_a_user)
    shown = upload(ticket, "kund.png", tiny_png(), customer_a_user)
    note = services.ticket_reply(ticket=ticket, actor=staff_user, message="Intern bild", internal=True)[1]
    internal = upload(ticket, "intern.png", tiny_png(), staff_user, message=note)
    page = portal.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "intern.png" not in page and f"attachments/{internal.pk}/preview/" not in page
    assert portal.get(f"/tickets/{ticket.number}/attachments/{internal.pk}/preview/").status_code == 404

    client.force_login(CustomerUserFactory(customer=contract_b.customer))
    assert client.get(f"/tickets/{ticket.number}/attachments/{shown.pk}/preview/").status_code == 404

    client.force_login(staff_user)
    desk = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert f'src="/tickets/{ticket.number}/attachments/{internal.pk}/preview/"' in desk
    assert client.get(f"/tickets/{ticket.number}/attachments/{internal.pk}/preview/").status_code == 200


# How did we do? --------------------------------------------------------------------------------


def links_in_resolved_mail(ticket) -> dict[str, str]:
    text = sent(Notification.objects.get(ticket=ticket, kind="resolved")).body
    assert "How did we do? One click tells us, and you may add a comment:" in text
    return {
        score: re.search(rf"^{label}: \S+(/satisfaction/\S+/{score}/)$", text, re.M)[1]
        for score, label in (("good", "Good"), ("bad", "Bad"))
    }


@pytest.fixture
def english_customer(customer_a):
    customer_a.language = "en"
    customer_a.save()
    return customer_a


def test_the_resolved_mail_asks_and_the_link_records_only_when_sent(
    client, english_customer, customer_a_user, contract_a, staff_user
):
    ticket = resolve(report(contract_a, customer_a_user), staff_user)
    links = links_in_resolved_mail(ticket)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    asked = client.get(links["good"])  # as a mail scanner would open it, or the customer
    page = asked.content.decode()
    assert asked.status_code == 200 and f"Ticket {ticket.number} is resolved." in page
    assert re.search(r'<input[^>]*value="good"[^>]*checked', page)  # the choice made in the mail, ready to send
    assert "Samtal kopplas inte fram." not in page and contract_a.customer.name not in page
    assert not Satisfaction.objects.exists()

    done = client.post(links["good"], {"score": "good", "comment": "Snabbt och bra."})
    assert "your answer “Good” about ticket" in done.content.decode()
    answer = Satisfaction.objects.get(ticket=ticket)
    assert (answer.score, answer.comment, answer.answered_by) == ("good", "Snabbt och bra.", None)

    # A change of mind through the other link replaces the answer.
    assert "sending again replaces that answer" in client.get(links["bad"]).content.decode()
    client.post(links["bad"], {"score": "bad"})
    assert list(Satisfaction.objects.values_list("score", "comment")) == [("bad", "")]


def test_a_changed_foreign_or_old_link_is_refused_with_a_clear_page(client, customer_a_user, contract_a, staff_user):
    ticket = resolve(report(contract_a, customer_a_user), staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    token = satisfaction.token_for(ticket)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_salt = signing.dumps(ticket.pk, salt="accounts.something-else")
    forged_id = signing.dumps(ticket.pk + 1, salt="not-the-satisfaction-salt")
    for bad in (tampered, other_salt, forged_id, "nonsense"):
        for method in (client.get, client.post):
            answer = method(f"/satisfaction/{bad}/good/", {"score": "good"})
            assert answer.status_code == 400
            assert "This link is not valid." in answer.content.decode()
    assert client.get(f"/satisfaction/{token}/excellent/").status_code == 404
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=31)):
        expired = client.post(f"/satisfaction/{token}/good/", {"score": "good"})
    assert expired.status_code == 400 and "This link has expired" in expired.content.decode()
    assert not Satisfaction.objects.exists()

    # Once the customer writes again the ticket is open: nothing to rate until it is resolved again.
    services.ticket_reply(ticket=ticket, actor=customer_a_user, message="Det krånglar igen.")
    reopened = client.post(f"/satisfaction/{token}/good/", {"score": "good"})
    assert (
        reopened.status_code == 409 and "is not resolved, so there is nothing to rate yet" in reopened.content.decode()
    )
    assert not Satisfaction.objects.exists()


def test_the_customer_answers_on_the_portal_and_staff_see_it(
    portal, client, customer_a_user, contract_a, contract_b, staff_user
):
    ticket = report(contract_a, customer_a_user)
    url = f"/portal/tickets/{ticket.number}/"
    assert 'data-testid="satisfaction"' not in portal.get(url).content.decode()
    early = portal.post(url + "satisfaction/", {"score": "good"}, follow=True).content.decode()
    assert "is not resolved, so there is nothing to rate yet" in early and not Satisfaction.objects.exists()

    resolve(ticket, staff_user)
    assert "How did we do?" in portal.get(url).content.decode()
    page = portal.post(url + "satisfaction/", {"score": "bad", "comment": "Tog för lång tid."}, follow=True)
    assert "You answered “Bad”" in page.content.decode() and 'name="score"' not in page.content.decode()
    assert Satisfaction.objects.get(ticket=ticket).answered_by == customer_a_user

    client.force_login(CustomerUserFactory(customer=contract_b.customer))
    assert client.post(url + "satisfaction/", {"score": "good"}).status_code == 404
    assert Satisfaction.objects.get(ticket=ticket).score == "bad"

    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    desk = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    shown = desk.split('<p data-testid="satisfaction">')[1].split("</p>")[0]
    assert "Bad" in shown and "alfa-user" in shown and "Tog för lång tid." in shown


def test_a_ticket_closed_as_resolved_is_asked_about_and_a_withdrawn_one_is_not(
    portal, customer_a_user, contract_a, staff_user
):
    closed = report(contract_a, customer_a_user)
    services.ticket_close(ticket=closed, actor=staff_user, close_reason="resolved")
    assert "How did we do?" in portal.get(f"/portal/tickets/{closed.number}/").content.decode()
    portal.post(f"/portal/tickets/{closed.number}/satisfaction/", {"score": "good"})
    assert Satisfaction.objects.get(ticket=closed).score == "good"

    withdrawn = report(contract_a, customer_a_user)
    services.ticket_withdraw(ticket=withdrawn, actor=customer_a_user)
    assert "How did we do?" not in portal.get(f"/portal/tickets/{withdrawn.number}/").content.decode()


STOCKHOLM = ZoneInfo("Europe/Stockholm")


def answered(ticket, score, at, comment=""):
    return Satisfaction.objects.create(ticket=ticket, score=score, answered_at=at, comment=comment)


def test_the_monthly_score_per_customer(client, staff_user, customer_a_user, contract_a, customer_b, settings):
    settings.TIME_ZONE = "Europe/Stockholm"
    contract_b = ContractFactory(customer=customer_b)
    beta_user = CustomerUserFactory(customer=customer_b)
    october = datetime.datetime(2026, 10, 10, 12, 0, tzinfo=STOCKHOLM)
    alfa = [report(contract_a, customer_a_user) for _ in range(5)]
    beta = [report(contract_b, beta_user) for _ in range(3)]
    for ticket, score in zip(alfa, ["good", "good", "good", "bad"]):
        answered(ticket, score, october)
    answered(beta[0], "bad", october, comment="Ingen ringde tillbaka.")
    answered(beta[1], "bad", datetime.datetime(2026, 10, 1, 0, 5, tzinfo=STOCKHOLM))  # October in Stockholm
    # 23:30 UTC on 31 October is already November in Stockholm: not this month's.
    answered(alfa[4], "bad", datetime.datetime(2026, 10, 31, 23, 30, tzinfo=datetime.UTC))
    answered(beta[2], "good", datetime.datetime(2026, 9, 30, 23, 55, tzinfo=STOCKHOLM))  # September

    client.force_login(staff_user)
    page = client.get("/desk/satisfaction/?month=2026-10", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    rows = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", page.split('data-testid="scores"')[1].split("</table>")[0], re.S)
    ]
    assert rows[1:] == [
        "Alfa Ab 75.0 % 3 1 4",  # 3 good of 4
        "Beta AB 0.0 % 0 2 2",
        "All customers 50.0 % 3 3 6",
    ]
    assert "Europe/Stockholm" in page and "Ingen ringde tillbaka." in page
    swedish = client.get("/desk/satisfaction/?month=2026-10", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "75,0 %" in swedish
    assert (
        "Give the month as YYYY-MM, e.g. 2026-10."
        in client.get("/desk/satisfaction/?month=2026-13", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def test_the_monthly_score_page_runs_a_constant_number_of_queries(client, staff_user, dstny):
    client.force_login(staff_user)
    at = datetime.datetime(2026, 10, 10, 12, 0, tzinfo=STOCKHOLM)

    def add_customers(count):
        for _ in range(count):
            contract = ContractFactory(customer=CustomerFactory(), terms=dstny)
            user = CustomerUserFactory(customer=contract.customer)
            for score in ("good", "bad"):
                answered(report(contract, user), score, at, comment="Kommentar")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/desk/satisfaction/?month=2026-10").status_code == 200
        return len(captured)

    add_customers(2)
    few = queries()
    add_customers(10)
    assert queries() == few
