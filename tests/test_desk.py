"""The staff desk as an agent works it: the queue's order, the ticket's history in words, one
message box with the actions the state allows, a word after each action, every form error in
one round."""

import datetime
import html
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from tests.factories import ContractFactory, fault_report
from tickets import history, notifications, services, states
from tickets.models import Channel, Notification, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 1, 10, 0, tzinfo=MARIEHAMN)


def travel(moment=NOW):
    return time_machine.travel(moment, tick=False)


def report(contract, actor, moment=NOW, **overrides):
    return fault_report(contract, actor, moment, **overrides)


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def queue_numbers(desk, moment) -> list[str]:
    with travel(moment):
        page = desk.get("/desk/").content.decode()
    return re.findall(r'data-href="/desk/tickets/([^/]+)/"', page)


# The queue's order ---------------------------------------------------------------------------


def test_the_queue_puts_breached_then_due_then_urgent_then_the_rest(desk, customer_a_user, contract_a, telia):
    """Telia's terms set no service-start deadline: its tickets, urgent ones too, used to sort last."""
    telia_contract = ContractFactory(customer=contract_a.customer, terms=telia)
    swedish = {"a_number": "08-123 456 78", "b_number": "070-123 45 67"}
    plain_telia = report(telia_contract, customer_a_user, NOW - datetime.timedelta(hours=3), **swedish)
    urgent_telia = report(telia_contract, customer_a_user, NOW - datetime.timedelta(hours=1), urgent=True, **swedish)
    breached = report(contract_a, customer_a_user, NOW - datetime.timedelta(days=2))
    due = report(contract_a, customer_a_user, NOW - datetime.timedelta(minutes=30))
    started = report(contract_a, customer_a_user, NOW - datetime.timedelta(days=3))
    with travel(NOW - datetime.timedelta(days=3) + datetime.timedelta(minutes=10)):
        services.ticket_start(ticket=started, actor=None)
    assert breached.service_start_due < NOW < due.service_start_due and urgent_telia.service_start_due is None
    assert queue_numbers(desk, NOW) == [
        breached.number,
        due.number,
        urgent_telia.number,
        started.number,
        plain_telia.number,
    ]


def test_an_urgent_report_tells_the_team_at_once(contract_a, customer_a_user, settings):
    settings.SUPPORT_TEAM_EMAIL = "team@desk.example"
    ticket = report(contract_a, customer_a_user, urgent=True, description="Hela växeln är nere.")
    report(contract_a, customer_a_user)  # not urgent: no word to the team
    [urgent] = Notification.objects.filter(kind=Notification.Kind.URGENT_REPORT)
    assert urgent.ticket == ticket
    from tickets import notifications

    notifications.send(urgent.pk)
    [sent] = mail.outbox
    assert sent.to == ["team@desk.example"] and ticket.number in sent.subject
    assert "Hela växeln är nere." in sent.body and f"/desk/tickets/{ticket.number}/" in sent.body


# The history in words ------------------------------------------------------------------------


def test_the_timeline_speaks_the_readers_language_with_the_zone(desk, client, staff_user, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    with travel(NOW + datetime.timedelta(minutes=20)):
        services.ticket_start(ticket=ticket, actor=staff_user)
    with travel(NOW + datetime.timedelta(minutes=40)):
        services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilken modell?")
    with travel(NOW + datetime.timedelta(hours=2)), translation.override("sv"):
        services.ticket_reply(ticket=ticket, actor=customer_a_user, message="Yealink T54W")
    english = desk.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert f"{staff_user.username} started work on it." in english
    assert f"{staff_user.username} assigned the ticket to {staff_user.username}." in english
    assert "The customer has until 2026-10-03 10:40 EEST to answer (D §16.7)." in english
    assert "(The customer answered)" in english and "Kunden svarade" not in english
    assert "2026-10-01 10:20 EEST" in english  # every time says its zone
    assert "→" not in english and "+00:00" not in english  # no raw "status: new → in_progress", no UTC ISO
    swedish = desk.get(f"/desk/tickets/{ticket.number}/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "(Kunden svarade)" in swedish and "The customer answered" not in swedish


def test_history_written_before_notes_were_keys_reads_in_the_readers_language(contract_a, customer_a_user):
    ticket = report(contract_a, customer_a_user)
    event = TicketEvent.objects.create(
        ticket=ticket,
        field="status",
        old_value=Status.WAITING_FOR_CUSTOMER,
        new_value=Status.IN_PROGRESS,
        note="Kunden svarade",
    )
    with translation.override("en"):
        assert history.describe(event, "Europe/Mariehamn").endswith("(The customer answered)")


def test_a_reopening_note_keeps_its_times_and_reads_in_each_language(contract_a, customer_a_user):
    ticket = report(contract_a, customer_a_user)
    stored = history.note("answered-in-time", at=NOW, due=NOW + datetime.timedelta(hours=1))
    with translation.override("en"):
        english = history.note_text(stored, "Europe/Mariehamn")
    with translation.override("sv"):
        swedish = history.note_text(stored, "Europe/Mariehamn")
    assert "2026-10-01 10:00 EEST" in english and "2026-10-01 11:00 EEST" in english and english != swedish
    assert ticket  # the note is stored on the ticket's entry in ticket_reply


# One message box, the actions the state allows -----------------------------------------------


@pytest.mark.parametrize("status", list(Status))
def test_the_page_offers_exactly_the_actions_the_state_allows(desk, staff_user, customer_a_user, contract_a, status):
    ticket = report(contract_a, customer_a_user)
    Ticket.objects.filter(pk=ticket.pk).update(status=status, close_reason="duplicate" if status == "closed" else None)
    page = desk.get(f"/desk/tickets/{ticket.number}/").content.decode()
    for action in ("start", "reply", "request-info", "resolve", "close", "assign"):
        shown = f'data-testid="{action}"' in page
        assert shown == states.allows(status, action), (status, action)
    assert page.count("<textarea") <= 1  # one message box


def test_the_api_and_the_services_read_the_same_table(staff_api, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    body = staff_api.get(f"/api/tickets/{ticket.pk}/").json()
    assert body["allowed_actions"] == states.allowed_actions(Status.NEW)
    services.ticket_start(ticket=ticket, actor=None)
    refused = staff_api.post(f"/api/tickets/{ticket.pk}/start/")
    assert (
        refused.status_code == 409
        and "start" not in staff_api.get(f"/api/tickets/{ticket.pk}/").json()["allowed_actions"]
    )


def test_each_action_says_what_it_did(desk, staff_user, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    url = f"/desk/tickets/{ticket.number}/"
    steps = [
        ("start/", {}, "Service started."),
        ("assign/", {"assignee": staff_user.pk}, f"Assigned to {staff_user.username}."),
        ("reply/", {"message": "Intern", "internal": "on"}, "Internal note saved."),
        ("reply/", {"message": "Vi tittar på det."}, "Reply sent to the customer."),
        (
            "request-info/",
            {"message": "Vilken modell?"},
            "Question sent; the ticket waits for the customer's answer until",
        ),
        ("classify/", {"classification": "fault"}, "Classified: Fault (the supplier's)."),
        ("time/", {"minutes": 30, "worked_on": "2026-10-01"}, "30 minutes logged for"),
    ]
    with travel(NOW + datetime.timedelta(minutes=30)):
        for path, data, said in steps:
            page = html.unescape(desk.post(url + path, data, follow=True).content.decode())
            assert said in page, path
        ticket.refresh_from_db()
        services.ticket_reply(ticket=ticket, actor=customer_a_user, message="Yealink")
        page = desk.post(url + "resolve/", {"message": "Firmware uppdaterad."}, follow=True).content.decode()
        assert "Resolved; the customer has been told." in page
        page = desk.post(url + "close/", {"close_reason": "resolved"}, follow=True).content.decode()
        assert "Closed: Resolved." in page


def test_a_fault_is_classified_before_it_is_resolved(desk, staff_api, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    response = desk.post(f"/desk/tickets/{ticket.number}/resolve/", {"message": "Klart."})
    assert response.status_code == 400 and "Classify the report before resolving it" in response.content.decode()
    api = staff_api.post(f"/api/tickets/{ticket.pk}/resolve/", {"message": "Klart."})
    assert api.status_code == 400 and "classification" in api.json()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW and not ticket.messages.exists()
    support = report(contract_a, customer_a_user, category="support", a_number="", b_number="", fault_occurred_at=None)
    assert desk.post(f"/desk/tickets/{support.number}/resolve/", {"message": "Klart."}).status_code == 302


def test_a_question_or_resolution_cannot_be_an_internal_note(desk, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    response = desk.post(f"/desk/tickets/{ticket.number}/request-info/", {"message": "Modell?", "internal": "on"})
    assert response.status_code == 400 and "untick “Internal note”" in response.content.decode()
    assert "Modell?" in response.content.decode()  # what was written is kept
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


def test_files_go_with_a_question(desk, customer_a_user, contract_a, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    ticket = report(contract_a, customer_a_user)
    shot = SimpleUploadedFile("setup.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
    desk.post(f"/desk/tickets/{ticket.number}/request-info/", {"message": "Stämmer detta?", "attachments": [shot]})
    [message] = ticket.messages.all()
    assert [a.filename for a in message.attachments.all()] == ["setup.png"]


def test_a_refused_assignment_is_explained(desk, customer_a_user, contract_a, django_user_model):
    ticket = report(contract_a, customer_a_user)
    gone = django_user_model.objects.create_user("gone", is_staff=True, is_active=True)
    from tickets.forms import AssignForm

    form_choices = AssignForm().fields["assignee"].queryset
    assert gone in form_choices
    gone.is_active = False
    gone.save()
    response = desk.post(f"/desk/tickets/{ticket.number}/assign/", {"assignee": gone.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


# Forms in one round --------------------------------------------------------------------------


def test_the_report_form_shows_every_error_at_once_and_marks_what_is_required(client, customer_a_user, contract_a):
    client.force_login(customer_a_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/portal/report/").content.decode()
    assert 'class="field required"' in page and "(required for a fault)" in page
    with travel():
        response = client.post(
            "/portal/report/",
            {"contract": contract_a.pk, "category": "fault", "description": "", "a_number": "12", "b_number": ""},
        )
    text = response.content.decode()
    assert response.status_code == 200 and not Ticket.objects.exists()
    assert "This field is required." in text  # the description
    assert "A fault report needs this number (D §16.9)." in text  # the B-number
    assert "12 is not a valid" in text  # the A-number, checked by the service in the same round
    assert "A fault report needs the date and time of the fault (D §16.9)." in text


def test_the_phone_report_form_lists_the_contracts_and_registers_a_report(desk, contract_a, customer_a):
    page = desk.get("/desk/report/").content.decode()
    assert re.search(rf'<option value="{contract_a.pk}"( selected)?>{customer_a.name} – ', page)
    with travel(NOW + datetime.timedelta(hours=1)):
        response = desk.post(
            "/desk/report/",
            {
                "customer": customer_a.pk,
                "contract": contract_a.pk,
                "received_at": "2026-10-01T10:30",
                "category": "fault",
                "a_number": "018 12345",
                "b_number": "",
                "description": "",
            },
        )
    text = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in text and "A fault report needs this number (D §16.9)." in text
    assert "A fault report needs the date and time of the fault (D §16.9)." in text


def test_error_texts_name_choices_as_people_read_them(staff_api, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    response = staff_api.post(f"/api/tickets/{ticket.pk}/classify/", {"classification": "not_fault"})
    message = response.json()["not_fault_reason"][0]
    assert "customer_equipment" not in message and "The customer's equipment" in message


# What the ticket page tells about the customer and the service ------------------------------


def test_the_ticket_page_shows_who_reported_the_contract_and_the_customers_other_open_tickets(
    desk,
    customer_a,
    customer_a_user,
    contract_a,
):
    customer_a.contacts.create(name="Anna Eriksson", email="anna@alfa.example", phone="+358401234567", is_primary=True)
    customer_a_user.first_name, customer_a_user.last_name, customer_a_user.email = "Bo", "Ek", "bo@alfa.example"
    customer_a_user.save()
    ticket = report(contract_a, customer_a_user)
    other = report(contract_a, customer_a_user, NOW + datetime.timedelta(minutes=5))
    closed = report(
        contract_a,
        customer_a_user,
        NOW + datetime.timedelta(minutes=6),
        category="support",
        a_number="",
        b_number="",
        fault_occurred_at=None,
    )
    services.ticket_close(ticket=closed, actor=None, close_reason="duplicate")
    page = desk.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert "Reported by Bo Ek" in page and 'href="mailto:bo@alfa.example"' in page
    assert "Anna Eriksson" in page and 'href="tel:+358401234567"' in page
    assert f'href="/desk/sla/contracts/{contract_a.pk}/"' in page
    others = page.split('data-testid="other-open"')[1].split("</ul>")[0]
    assert other.number in others and closed.number not in others and ticket.number not in others


def test_the_ticket_page_runs_a_constant_number_of_queries(
    desk, staff_user, customer_a, customer_a_user, contract_a, django_assert_max_num_queries
):
    def count(ticket) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert desk.get(f"/desk/tickets/{ticket.number}/").status_code == 200
        return len(queries)

    small = report(contract_a, customer_a_user)
    services.ticket_reply(ticket=small, actor=staff_user, message="Svar")
    big = report(contract_a, customer_a_user)
    for i in range(12):
        customer_a.contacts.create(name=f"Kontakt {i}", email=f"k{i}@alfa.example")
        report(contract_a, customer_a_user, NOW + datetime.timedelta(minutes=i))
        services.ticket_reply(ticket=big, actor=staff_user, message=f"Svar {i}", internal=bool(i % 2))
        services.ticket_assign(ticket=big, actor=staff_user, assignee=staff_user if i % 2 else None)
    assert count(big) == count(small)


def outage(contract=None, started=NOW - datetime.timedelta(minutes=20), ended=None, **extra):
    from sla import services as sla_services

    return sla_services.outage_register(
        started_at=started,
        ended_at=ended,
        kind="unplanned",
        responsibility="supplier",
        contracts=[contract] if contract else [],
        description="Växeln svarar inte",
        **extra,
    )


def test_outages_around_the_fault_time_are_listed_and_linked_in_one_click(
    desk, customer_a_user, contract_a, contract_b
):
    ticket = report(contract_a, customer_a_user)
    with travel():
        ours = outage(contract_a)
        wide = outage(
            started=NOW - datetime.timedelta(hours=1),
            ended=NOW - datetime.timedelta(minutes=30),
            service=contract_a.terms.slug,
        )
        theirs = outage(contract_b)
        long_ago = outage(contract_a, started=NOW - datetime.timedelta(days=3), ended=NOW - datetime.timedelta(days=2))
    url = f"/desk/sla/tickets/{ticket.number}/outages/"
    fragment = desk.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert f'data-testid="link-{ours.pk}"' in fragment and f'data-testid="link-{wide.pk}"' in fragment
    assert f"link-{theirs.pk}" not in fragment and f"link-{long_ago.pk}" not in fragment
    assert "<html" not in fragment  # a fragment for the ticket page
    with travel(NOW + datetime.timedelta(minutes=5)):
        linked = desk.post(url, {"outage": ours.pk}, HTTP_HX_REQUEST="true").content.decode()
    assert "The ticket is linked to the outage." in linked and f'data-testid="unlink-{ours.pk}"' in linked
    assert list(ours.tickets.all()) == [ticket]
    with travel(NOW + datetime.timedelta(minutes=6)):
        page = desk.post(url, {"outage": ours.pk, "action": "unlink"}, follow=True).content.decode()
    assert "The ticket is no longer linked to the outage." in page and not ours.tickets.exists()
    assert desk.get(f"/desk/tickets/{ticket.number}/").content.decode().count(f'hx-get="{url}"') == 1


def test_linking_a_ticket_an_outage_does_not_cover_is_refused_with_the_reason(
    desk, customer_a_user, contract_a, contract_b
):
    ticket = report(contract_a, customer_a_user)
    with travel():
        theirs = outage(contract_b)
    response = desk.post(f"/desk/sla/tickets/{ticket.number}/outages/", {"outage": theirs.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "These tickets belong to customers the outage does not name" in response.content.decode()
    assert not theirs.tickets.exists()


# The queue refreshes itself ------------------------------------------------------------------


def test_the_queue_refreshes_its_rows_and_counts_what_waits_for_staff_in_the_title(
    desk, staff_user, customer_a_user, contract_a
):
    new = report(contract_a, customer_a_user)
    answered = report(contract_a, customer_a_user, NOW + datetime.timedelta(minutes=1))
    quiet = report(contract_a, customer_a_user, NOW + datetime.timedelta(minutes=2))
    with travel(NOW + datetime.timedelta(minutes=10)):
        for ticket in (answered, quiet):
            services.ticket_start(ticket=ticket, actor=staff_user)
        services.ticket_request_info(ticket=answered, actor=staff_user, message="Modell?")
        services.ticket_reply(ticket=answered, actor=customer_a_user, message="T54W")
        services.ticket_reply(ticket=quiet, actor=staff_user, message="Vi tittar på det.")
        page = desk.get("/desk/").content.decode()
        partial = desk.get("/desk/", HTTP_HX_REQUEST="true").content.decode()
    assert "<title>(2) Queue</title>" in page  # the new report and the customer's answer
    assert 'hx-trigger="every 20s"' in page and 'src="/static/vendor/htmx-2.0.8.min.js"' in page
    assert partial.startswith("<title>(2) Queue</title>") and "<header" not in partial
    rows = {number: row for number, row in re.findall(r'data-href="/desk/tickets/([^/]+)/"(.*?)</tr>', partial, re.S)}
    assert 'data-testid="answered"' in rows[answered.number]
    assert 'data-testid="answered"' not in rows[quiet.number] + rows[new.number]


def test_who_wrote_last_is_kept_on_the_ticket(staff_user, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    services.ticket_start(ticket=ticket, actor=staff_user)

    def answered() -> bool:
        return Ticket.objects.get(pk=ticket.pk).customer_answered

    services.ticket_reply(ticket=ticket, actor=customer_a_user, message="Det händer igen.")
    assert answered()
    services.ticket_reply(ticket=ticket, actor=staff_user, message="Intern", internal=True)
    assert answered()  # an internal note is no answer to the customer
    services.ticket_reply(ticket=ticket, actor=staff_user, message="Vi ser på det.")
    assert not answered()
    services.ticket_reply(ticket=ticket, actor=None, message="Svar per e-post", channel=Channel.EMAIL)
    assert answered()  # a contact's e-mail, without a user, is the customer's word too
    services.ticket_request_info(ticket=ticket, actor=staff_user, message="Modell?")
    assert not answered()


# Canned replies ------------------------------------------------------------------------------


def test_canned_replies_are_filled_for_the_ticket_in_the_customers_language_first(
    desk, staff_user, customer_a, customer_a_user, contract_a
):
    from tickets.models import CannedReply

    staff_user.first_name = "Eva"
    staff_user.save()
    CannedReply.objects.create(title="Received", language="en", body="We are on {ticket.number}. /{agent.first_name}")
    CannedReply.objects.create(
        title="Mottaget",
        language="sv",
        body="Hej {customer.name}! Vi arbetar med {ticket.number} (A: {ticket.a_number}).",
    )
    CannedReply.objects.create(title="Old", language="sv", body="Ur bruk", active=False)
    ticket = report(contract_a, customer_a_user)  # customer_a speaks Swedish
    page = html.unescape(desk.get(f"/desk/tickets/{ticket.number}/").content.decode())
    menu = page.split('id="canned-reply"')[1].split("</select>")[0]
    assert menu.index("Mottaget") < menu.index("Received (en)") and "Old" not in menu
    assert f"Hej {customer_a.name}! Vi arbetar med {ticket.number} (A: +3581812345)." in menu
    assert f"We are on {ticket.number}. /Eva" in menu


def test_a_canned_reply_naming_an_unknown_placeholder_is_refused_in_the_admin(client, django_user_model):
    from tickets.models import CannedReply

    admin = django_user_model.objects.create_superuser("root", "root@desk.example", "x-admin-pass-42")
    client.force_login(admin)
    response = client.post(
        "/admin/tickets/cannedreply/add/",
        {
            "title": "Fel",
            "language": "sv",
            "body": "Hej {ticket.customer.contacts} {ticket.__class__}",
            "active": "on",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and not CannedReply.objects.exists()
    text = html.unescape(response.content.decode())
    assert "Unknown placeholders: {ticket.__class__}, {ticket.customer.contacts}." in text
    assert "{ticket.number}" in text  # the known ones are named


# Views and sorting ---------------------------------------------------------------------------


def test_staff_save_their_own_views_of_the_queue(
    desk, client, staff_user, django_user_model, customer_a_user, contract_a
):
    response = desk.post("/desk/views/", {"name": "Urgent and mine", "query": "urgent=true&assignee=none&page=3"})
    assert response.status_code == 302 and response["Location"] == "/desk/?urgent=true&assignee=none"
    page = html.unescape(desk.get("/desk/?urgent=true&assignee=none").content.decode())
    assert "The view “Urgent and mine” is saved." in page
    assert 'aria-current="page">Urgent and mine</a>' in page and "My open tickets" in page
    desk.post("/desk/views/", {"name": "Urgent and mine", "query": "urgent=true"})  # same name: replaced
    view = staff_user.saved_views.get()
    assert view.query == "urgent=true"
    assert (
        html.unescape(desk.post("/desk/views/", {"name": "", "query": "x=1"}, follow=True).content.decode()).count(
            "Give the view a name of 1 to 60 characters."
        )
        == 1
    )
    too_long = desk.post("/desk/views/", {"name": "Long", "query": "q=" + "x" * 1200}, follow=True)
    assert "These filters are too long to keep as a view." in html.unescape(too_long.content.decode())
    assert staff_user.saved_views.count() == 1

    colleague = django_user_model.objects.create_user("colleague", is_staff=True)
    client.force_login(colleague)
    assert "Urgent and mine" not in client.get("/desk/").content.decode()
    assert client.post(f"/desk/views/{view.pk}/delete/").status_code == 404  # another's view is not found
    client.force_login(staff_user)
    client.post(f"/desk/views/{view.pk}/delete/")
    assert not staff_user.saved_views.exists()


def test_the_queue_sorts_by_the_column_chosen_each_way(desk, customer_a_user, contract_a, customer_b, contract_b):
    first = report(contract_a, customer_a_user, NOW - datetime.timedelta(hours=2))
    second = report(
        contract_b,
        customer_a_user,
        NOW - datetime.timedelta(hours=1),
        a_number="08-123 456 78",
        b_number="070-123 45 67",
    )
    with travel(NOW):
        page = desk.get("/desk/?sort=received").content.decode()
        newest_first = desk.get("/desk/?sort=-received").content.decode()
        by_customer = desk.get("/desk/?sort=-customer").content.decode()

    def found(text: str) -> list[str]:
        return re.findall(r'data-href="/desk/tickets/([^/]+)/"', text)

    assert found(page) == [first.number, second.number] and found(newest_first) == [second.number, first.number]
    names = sorted([(contract_a.customer.name, first.number), (contract_b.customer.name, second.number)], reverse=True)
    assert found(by_customer) == [number for _name, number in names]
    assert 'aria-sort="descending"><a href="?sort=received">' in newest_first
    assert desk.get("/desk/?sort=nonsense").status_code == 200  # an unknown column keeps the queue's order
    for column in ("number", "customer", "status", "due", "received", "assignee"):
        for sort in (column, f"-{column}"):
            assert len(found(desk.get("/desk/", {"sort": sort}).content.decode())) == 2, sort


# Several tickets at once ------------------------------------------------------------------------


def bulk(desk, numbers, moment=NOW, url="/desk/bulk/", **fields):
    with travel(moment):
        return desk.post(url, {"ticket": numbers, "query": "status=new", **fields}, follow=True)


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_ticked_tickets_are_assigned_and_classified_each_through_the_services(
    desk, staff_user, customer_a_user, contract_a, django_user_model
):
    colleague = django_user_model.objects.create_user("anna", is_staff=True)
    first, second = report(contract_a, customer_a_user), report(contract_a, customer_a_user)
    closed = report(contract_a, customer_a_user)
    with travel():
        services.ticket_close(ticket=closed, actor=staff_user)
    response = bulk(desk, [first.number, second.number, closed.number], action="assign", assignee=colleague.pk)
    assert response.redirect_chain[-1][0] == "/desk/?status=new"  # back to the same filters
    said = flashes(response)
    assert "2 tickets assigned to anna." in said
    assert f"Not changed: {closed.number} (A ticket that is closed cannot be assigned.)" in said
    assert Ticket.objects.filter(assignee=colleague).count() == 2
    assert TicketEvent.objects.filter(ticket=first, field="assignee", actor=staff_user, new_value="anna").exists()

    response = bulk(
        desk, [first.number], action="classify", classification="not_fault", not_fault_reason="customer_equipment"
    )
    assert flashes(response) == ["1 ticket classified: Not a fault."]
    first.refresh_from_db()
    assert (first.classification, first.not_fault_reason) == ("not_fault", "customer_equipment")
    response = bulk(desk, [second.number], action="classify", classification="not_fault")
    assert "Not changed" in flashes(response)[0] and "Choose why it is not a fault" in flashes(response)[0]


def test_a_bulk_change_with_nothing_ticked_or_no_choice_changes_nothing_and_says_why(desk, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    assert flashes(bulk(desk, [], action="assign")) == ["Tick the tickets to change."]
    assert flashes(bulk(desk, [ticket.number], action="classify")) == ["Choose a classification."]
    assert flashes(bulk(desk, [ticket.number], action="duplicate")) == ["Name the ticket this one repeats."]
    assert flashes(bulk(desk, [ticket.number], action="duplicate", duplicate_of="nope-1")) == [
        "No ticket has the number NOPE-1."
    ]
    many = [f"X-{i}" for i in range(101)]
    assert flashes(bulk(desk, many, action="assign")) == ["Change at most 100 tickets at once."]
    assert not TicketEvent.objects.exclude(field="status").filter(ticket=ticket).exists()


def test_duplicates_are_closed_naming_the_ticket_they_repeat_and_the_customer_is_told(
    desk, staff_user, customer_a_user, contract_a, contract_b
):
    original, again, once_more = (report(contract_a, customer_a_user) for _ in range(3))
    foreign = report(contract_b, customer_a_user, a_number="08-123 456 78", b_number="070-123 45 67")
    response = bulk(
        desk,
        [again.number, once_more.number, foreign.number, original.number],
        action="duplicate",
        duplicate_of=original.number.lower(),
    )
    said = flashes(response)
    assert said[0] == f"2 tickets closed as duplicates of {original.number}."
    assert f"{foreign.number} ({foreign.number}" not in said[1]
    assert f"{foreign.number} ({original.number} is another customer's ticket" in said[1]
    assert f"{original.number} (A ticket cannot be a duplicate of itself.)" in said[1]
    again.refresh_from_db()
    assert (again.status, again.close_reason, again.duplicate_of) == ("closed", "duplicate", original)
    _subject, body = notifications.render(Notification.objects.get(ticket=again, kind="closed"))
    assert f"Det gäller samma sak som ärende {original.number}: följ det ärendet." in body  # the customer's Swedish
    page = desk.get(f"/desk/tickets/{again.number}/").content.decode()
    assert f'href="/desk/tickets/{original.number}/">{original.number}</a>' in page
    assert f"It repeats {original.number}." in page  # the history says so
    # The original cannot in turn be closed as a duplicate of its duplicate.
    with pytest.raises(services.ValidationError, match="already closed as a duplicate of this ticket"):
        services.ticket_close(ticket=original, actor=staff_user, duplicate_of=again)


def test_the_ticket_page_closes_a_duplicate_only_with_the_ticket_it_repeats(desk, customer_a_user, contract_a):
    original, again = report(contract_a, customer_a_user), report(contract_a, customer_a_user)
    url = f"/desk/tickets/{again.number}/close/"
    refused = desk.post(url, {"close_reason": "duplicate"})
    assert refused.status_code == 400 and "Name the ticket this one repeats." in refused.content.decode()
    done = desk.post(url, {"close_reason": "duplicate", "duplicate_of": f" {original.number} "}, follow=True)
    assert f"Closed as a duplicate of {original.number}." in done.content.decode()


def test_the_api_closes_a_duplicate_naming_the_original_it_may_see(staff_api, customer_a_user, contract_a):
    original, again = report(contract_a, customer_a_user), report(contract_a, customer_a_user)
    missing = staff_api.post(f"/api/tickets/{again.pk}/close/", {"duplicate_of": "NOPE-1"}, format="json")
    assert missing.status_code == 400 and "NOPE-1" in str(missing.json())
    done = staff_api.post(f"/api/tickets/{again.pk}/close/", {"duplicate_of": original.number}, format="json")
    assert done.status_code == 200, done.json()
    assert (done.json()["close_reason"], done.json()["duplicate_of"]) == ("duplicate", original.number)
    assert staff_api.get(f"/api/tickets/{original.pk}/").json()["duplicate_of"] is None


def test_ticked_tickets_are_linked_to_an_outage_chosen_from_the_recent_ones(
    desk, customer_a_user, contract_a, contract_b
):
    first, second = report(contract_a, customer_a_user), report(contract_a, customer_a_user)
    elsewhere = report(contract_b, customer_a_user, a_number="08-123 456 78", b_number="070-123 45 67")
    with travel():
        ours = outage(contract_a)
        old = outage(contract_a, started=NOW - datetime.timedelta(days=40), ended=NOW - datetime.timedelta(days=39))
        menu = desk.get("/desk/sla/outage-options/", HTTP_HX_REQUEST="true").content.decode()
    assert f'<option value="{ours.pk}">#{ours.pk} 2026-10-01 08:40 CEST, going on · Unplanned' in menu
    assert f'value="{old.pk}"' not in menu
    response = bulk(desk, [first.number, second.number, elsewhere.number], url="/desk/sla/bulk-link/", outage=ours.pk)
    said = flashes(response)
    assert said[0] == f"2 tickets linked to outage #{ours.pk}." and elsewhere.number in said[1]
    assert set(ours.tickets.all()) == {first, second}
    assert flashes(bulk(desk, [first.number], url="/desk/sla/bulk-link/")) == [
        "Choose the outage to link the tickets to."
    ]


def test_the_queue_has_a_tick_per_ticket_and_a_contract_menu_for_the_chosen_customer(
    desk, customer_a_user, contract_a, customer_a
):
    second_contract = ContractFactory(customer=customer_a, terms=contract_a.terms, description="Växel Kista")
    ticket = report(contract_a, customer_a_user)
    with travel():
        page = desk.get("/desk/").content.decode()
        chosen = desk.get("/desk/", {"customer": customer_a.pk, "contract": second_contract.pk}).content.decode()
        only_contract = desk.get("/desk/", {"contract": contract_a.pk}).content.decode()
    assert f'name="ticket" value="{ticket.number}" form="bulk"' in page
    assert 'name="contract"' not in page  # no customer chosen: no contract menu
    assert f'<option value="{second_contract.pk}" selected>' in chosen and "Växel Kista" in chosen
    assert "No tickets match." in chosen
    assert f'<input type="hidden" name="contract" value="{contract_a.pk}">' in only_contract
    assert ticket.number in only_contract


def test_the_countdown_says_overdue_in_the_readers_language_as_the_page_script_does():
    from django.utils import translation

    from tickets.views import _span

    with translation.override("sv"):
        assert _span(-datetime.timedelta(minutes=65)) == "försenad 1 h 5 min"
        assert _span(datetime.timedelta(days=1, minutes=5)) == "1 d 0 h 5 min"
    with translation.override("en"):
        assert _span(-datetime.timedelta(days=2, hours=3)) == "overdue 2 d 3 h 0 min"
