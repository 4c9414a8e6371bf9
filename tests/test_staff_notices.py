"""Staff are told what concerns them: a new report on a contract they manage and a customer's
answer on their ticket, by e-mail and as a notice on the desk, each switchable per staff member."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import mail_samples
from tests.factories import ContractFactory
from tickets import inbound, notifications, services, tasks
from tickets.models import Channel, Notification, StaffNotice, StaffPreferences, Ticket

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN)
STAFF_MAIL = (Notification.Kind.NEW_REPORT_STAFF, Notification.Kind.CUSTOMER_REPLY_STAFF)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def manager(django_user_model, contract_a):
    user = django_user_model.objects.create_user(
        "maria", email="maria@desk.example", password="x-maria-pass-42", is_staff=True
    )
    contract_a.account_managers.add(user)
    return user


@pytest.fixture
def desk(client, manager):
    client.force_login(manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def report(contract, actor, **overrides):
    arguments = {
        "contract": contract,
        "reported_by": actor,
        "channel": Channel.WEB,
        "a_number": "018 12345",
        "b_number": "040 123 4567",
        "fault_occurred_at": NOW - datetime.timedelta(minutes=20),
        "description": "Samtal kopplas inte fram.",
        **overrides,
    }
    return services.ticket_create(**arguments)


def deliver() -> list:
    """Send what is pending, as the beat sweep does; the staff mails that went out."""
    for pk in Notification.objects.filter(sent_at__isnull=True, failed_at__isnull=True).values_list("pk", flat=True):
        notifications.send(pk)
    staff = set(
        Notification.objects.filter(kind__in=STAFF_MAIL, sent_at__isnull=False).values_list("message_id", flat=True)
    )
    return [sent for sent in mail.outbox if sent.extra_headers["Message-ID"] in staff]


def switch(user, **switches):
    preferences = StaffPreferences.of(user)
    for name, value in switches.items():
        setattr(preferences, name, value)
    preferences.save()


# Account managers, named in the administration ---------------------------------------------------


def admin_form(contract=None, **changes):
    data = {
        "signed_on": "2026-09-01",
        "delivered_on": "2026-09-15",
        "terminated_on": "",
        "description": "",
        "one_time_fee": "0.00",
        "invoiced_from": "",
        "delivery_delay_cause": "",
        "monthly_fee": "",
        "fee_from": "",
        "fees-TOTAL_FORMS": "0",
        "fees-INITIAL_FORMS": "0",
        "fees-MIN_NUM_FORMS": "0",
        "fees-MAX_NUM_FORMS": "1000",
    }
    if contract is not None:
        data.update(
            {
                "signed_on": contract.signed_on.isoformat(),
                "delivered_on": contract.delivered_on.isoformat(),
                "fees-TOTAL_FORMS": "1",
                "fees-INITIAL_FORMS": "1",
                "fees-0-id": str(contract.fees.get().pk),
                "fees-0-contract": str(contract.pk),
            }
        )
    data.update(changes)
    return data


def test_account_managers_are_named_in_the_admin_among_staff_only(
    admin_client, customer_a, dstny, contract_a, manager, customer_a_user, django_user_model
):
    colleague = django_user_model.objects.create_user("olle", email="olle@desk.example", is_staff=True)
    added = admin_client.post(
        "/admin/contracts/contract/add/",
        admin_form(
            customer=customer_a.pk, terms=dstny.pk, monthly_fee="250.00", account_managers=[manager.pk, colleague.pk]
        ),
    )
    assert added.status_code == 302
    contract = customer_a.contracts.exclude(pk=contract_a.pk).get()
    assert set(contract.account_managers.all()) == {manager, colleague}
    url = f"/admin/contracts/contract/{contract_a.pk}/change/"
    assert 'name="account_managers"' in admin_client.get(url).content.decode()
    refused = admin_client.post(
        url, admin_form(contract_a, account_managers=[customer_a_user.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert admin_client.post(url, admin_form(contract_a, account_managers=[colleague.pk])).status_code == 302
    assert list(contract_a.account_managers.all()) == [colleague]


# A new report on a contract --------------------------------------------------------------------


def test_a_portal_report_mails_the_contracts_account_manager(client, customer_a_user, contract_a, manager):
    client.force_login(customer_a_user)
    response = client.post(
        "/portal/report/",
        {
            "contract": contract_a.pk,
            "category": "fault",
            "a_number": "018 12345",
            "b_number": "040 123 4567",
            "fault_occurred_at": "2026-10-01T12:40",
            "description": "Växeln svarar inte.",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    [sent] = deliver()
    assert sent.to == ["maria@desk.example"]
    assert sent.subject.startswith(f"[{ticket.number}] ") and "Alfa Ab" in sent.subject
    # In the desk's language (Swedish) unless the staff member chose another.
    assert f"Ärende: {ticket.number}" in sent.body
    assert f"http://127.0.0.1:8000/desk/tickets/{ticket.number}/" in sent.body
    assert "Växeln svarar inte." in sent.body and "(Europe/Mariehamn)" in sent.body
    assert "/portal/" not in sent.body  # staff are not sent to the customers' portal


def test_the_mail_comes_in_the_language_the_staff_member_chose(customer_a_user, contract_a, manager):
    switch(manager, language="en")
    ticket = report(contract_a, customer_a_user, urgent=True)
    [sent] = deliver()
    assert sent.subject == f"[{ticket.number}] New report from Alfa Ab"
    assert (
        f"Alfa Ab made a new report on a contract you manage: Fault report (Web), ticket {ticket.number}." in sent.body
    )
    assert "It is marked urgent." in sent.body and f"Ticket: {ticket.number}" in sent.body
    assert "Service starts at the latest: 2026-10-01 17:00 (Europe/Mariehamn)" in sent.body


def test_a_report_by_email_mails_the_account_manager(customer_a, contract_a, manager):
    customer_a.contacts.create(name="Anna Eriksson", email=mail_samples.CONTACT, is_primary=True)
    record = inbound.receive(
        mail_samples.plain(
            "A-nummer: 018 12345\r\nB-nummer: 040 123 4567\r\nTidpunkt: 2026-10-01 12:40\r\nSamtal bryts."
        )
    )
    assert record.outcome == "new_ticket"
    [sent] = deliver()
    assert sent.to == ["maria@desk.example"] and record.ticket.number in sent.subject
    assert "(E-post)" in sent.body  # the channel, in Swedish


def test_a_report_through_the_api_mails_the_account_manager_and_leaves_a_notice(customer_a_api, contract_a, manager):
    response = customer_a_api.post(
        "/api/tickets/",
        {
            "contract": contract_a.pk,
            "a_number": "018-123 45",
            "b_number": "+46 70 123 45 67",
            "fault_occurred_at": "2026-10-01T12:40:00+03:00",
            "description": "Samtal bryts efter 3 sekunder.",
        },
        format="json",
    )
    assert response.status_code == 201
    [sent] = deliver()
    assert sent.to == ["maria@desk.example"] and response.json()["number"] in sent.subject
    assert StaffNotice.objects.get(user=manager).kind == "new_report"


def test_only_the_contracts_own_account_managers_hear_of_it(
    customer_a_user, customer_a, dstny, contract_a, manager, django_user_model
):
    other_contract = ContractFactory(customer=customer_a, terms=dstny)
    colleague = django_user_model.objects.create_user("olle", email="olle@desk.example", is_staff=True)
    other_contract.account_managers.add(colleague)
    report(other_contract, customer_a_user)
    assert [sent.to for sent in deliver()] == [["olle@desk.example"]]
    assert not StaffNotice.objects.filter(user=manager).exists()


def test_an_account_manager_named_after_reports_hears_of_the_next_one(customer_a_user, contract_a, django_user_model):
    report(contract_a, customer_a_user)
    assert deliver() == [] and not StaffNotice.objects.exists()
    olle = django_user_model.objects.create_user("olle", email="olle@desk.example", is_staff=True)
    contract_a.account_managers.add(olle)
    second = report(contract_a, customer_a_user)
    [sent] = deliver()
    assert sent.to == ["olle@desk.example"] and second.number in sent.subject
    assert list(StaffNotice.objects.values_list("ticket", flat=True)) == [second.pk]


def test_an_account_manager_who_left_the_staff_hears_nothing(customer_a_user, contract_a, manager):
    manager.is_staff = False
    manager.save()
    report(contract_a, customer_a_user)
    assert deliver() == [] and not StaffNotice.objects.exists()


def test_the_switches_turn_the_mail_and_the_notice_off_each_on_its_own(customer_a_user, contract_a, manager):
    switch(manager, email_new_report=False)
    ticket = report(contract_a, customer_a_user)
    assert deliver() == []
    assert StaffNotice.objects.get(user=manager).ticket == ticket
    switch(manager, email_new_report=True, notice_new_report=False)
    report(contract_a, customer_a_user)
    assert len(deliver()) == 1 and StaffNotice.objects.filter(user=manager).count() == 1


def test_a_mail_switched_off_before_it_goes_out_is_not_sent(customer_a_user, contract_a, manager):
    report(contract_a, customer_a_user)
    switch(manager, email_new_report=False)  # while the broker was down, say
    assert deliver() == []
    [kept] = Notification.objects.filter(kind=Notification.Kind.NEW_REPORT_STAFF)
    assert kept.failed_at is not None and "turned these e-mails off" in kept.last_error


def test_a_staff_mail_the_broker_never_took_goes_out_with_the_sweep_once(customer_a_user, contract_a, manager):
    report(contract_a, customer_a_user)  # no worker ran: the rows wait in the database
    with time_machine.travel(NOW + datetime.timedelta(minutes=3), tick=False):
        tasks.send_pending_notifications()
        tasks.send_pending_notifications()
    assert [sent.to for sent in mail.outbox if sent.to == [manager.email]] == [[manager.email]]


def test_the_staff_member_who_registers_a_phone_report_is_not_told_of_it(
    client, customer_a, contract_a, manager, django_user_model
):
    colleague = django_user_model.objects.create_user("olle", email="olle@desk.example", is_staff=True)
    contract_a.account_managers.add(colleague)
    client.force_login(manager)
    response = client.post(
        "/desk/report/",
        {
            "customer": customer_a.pk,
            "contract": contract_a.pk,
            "category": "fault",
            "a_number": "018 12345",
            "b_number": "040 123 4567",
            "fault_occurred_at": "2026-10-01T12:40",
            "received_at": "2026-10-01T12:50",
            "description": "Ringde in: växeln nere.",
        },
    )
    assert response.status_code == 302 and Ticket.objects.get().channel == "phone"
    assert [sent.to for sent in deliver()] == [["olle@desk.example"]]
    assert list(StaffNotice.objects.values_list("user__username", flat=True)) == ["olle"]


def test_a_kept_mail_opened_by_the_account_manager_does_not_tell_them(customer_a, contract_a, manager):
    record = inbound.receive(mail_samples.plain("Samtal bryts.", sender="Okänd <okand@example.org>"))
    assert record.outcome == "quarantined"
    inbound.open_for(record, contract=contract_a, actor=manager)
    assert deliver() == [] and not StaffNotice.objects.exists()


# A customer's answer on a ticket -----------------------------------------------------------------


@pytest.fixture
def assigned(contract_a, customer_a_user, manager, staff_user):
    """A ticket assigned to the manager, waiting for the customer; the report's own word read."""
    ticket = report(contract_a, customer_a_user)
    services.ticket_assign(ticket=ticket, actor=staff_user, assignee=manager)
    services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilken telefonmodell?")
    StaffNotice.objects.update(read_at=NOW)
    Notification.objects.update(failed_at=NOW)
    return ticket


def test_a_customers_answer_in_the_portal_mails_the_assignee(client, customer_a_user, assigned, manager):
    switch(manager, language="en")
    client.force_login(customer_a_user)
    client.post(f"/portal/tickets/{assigned.number}/", {"message": "Yealink T54W, firmware 96.86."})
    [sent] = deliver()
    assert sent.to == ["maria@desk.example"]
    assert sent.subject == f"[{assigned.number}] Alfa Ab answered"
    assert (
        f"Alfa Ab answered on ticket {assigned.number}, which is assigned to you, at 2026-10-01 13:00 (Europe/Mariehamn):"
        in sent.body
    )
    assert "Yealink T54W, firmware 96.86." in sent.body
    assert f"/desk/tickets/{assigned.number}/" in sent.body
    assert StaffNotice.objects.filter(user=manager, read_at__isnull=True, kind="customer_reply").count() == 1


def test_a_customers_answer_through_the_api_mails_the_assignee(customer_a_api, assigned):
    response = customer_a_api.post(f"/api/tickets/{assigned.pk}/reply/", {"message": "Det gäller alla telefoner."})
    assert response.status_code == 200
    [sent] = deliver()
    assert sent.to == ["maria@desk.example"] and "Det gäller alla telefoner." in sent.body


def test_staff_replies_and_notes_tell_nobody(assigned, staff_user, manager):
    services.ticket_reply(ticket=assigned, actor=staff_user, message="Vi uppdaterar firmware.")
    services.ticket_reply(ticket=assigned, actor=staff_user, message="Intern: ring leverantören", internal=True)
    assert deliver() == [] and not StaffNotice.objects.filter(read_at__isnull=True).exists()


def test_an_answer_on_a_ticket_without_assignee_tells_nobody_personally(contract_a, customer_a_user, manager):
    ticket = report(contract_a, customer_a_user)
    StaffNotice.objects.update(read_at=NOW)
    Notification.objects.update(failed_at=NOW)
    services.ticket_reply(ticket=ticket, actor=customer_a_user, message="Hallå?")
    assert deliver() == [] and not StaffNotice.objects.filter(read_at__isnull=True).exists()


# The desk: the count, the notices page, the settings ------------------------------------------


def test_the_header_counts_unread_notices_and_the_queue_refresh_updates_it(desk, contract_a, customer_a_user):
    page = desk.get("/desk/").content.decode()
    assert 'id="notices-link"' in page and 'data-testid="notice-count"' not in page
    report(contract_a, customer_a_user)
    report(contract_a, customer_a_user)
    partial = desk.get("/desk/", HTTP_HX_REQUEST="true").content.decode()
    badge = re.search(r'<a id="notices-link"[^>]*hx-swap-oob="true"[^>]*>.*?</a>', partial, re.S)
    assert badge and "2 new" in badge[0]
    assert "2 new" in desk.get("/desk/billable/").content.decode()  # on every desk page


def test_the_notices_page_lists_the_newest_first_and_opening_a_ticket_reads_its_notices(
    desk, contract_a, customer_a_user, manager, staff_user
):
    first = report(contract_a, customer_a_user)
    with time_machine.travel(NOW + datetime.timedelta(minutes=7), tick=False):
        second = report(contract_a, customer_a_user)
    page = desk.get("/desk/notices/").content.decode()
    rows = re.findall(r'<tr class="is-(unread|read)" data-testid="notice">(.*?)</tr>', page, re.S)
    assert [second.number in rows[0][1], first.number in rows[1][1]] == [True, True]
    assert "Alfa Ab" in rows[0][1] and "New report on a contract you manage" in rows[0][1]
    assert "2026-10-01 13:07 EEST" in rows[0][1]  # the terms' local time, with its zone
    assert f'href="/desk/tickets/{first.number}/"' in rows[1][1]
    assert desk.get(f"/desk/tickets/{first.number}/").status_code == 200
    page = desk.get("/desk/notices/").content.decode()
    assert re.findall(r'<tr class="is-(unread|read)"', page) == ["unread", "read"]
    assert "1 new" in page


def test_mark_all_read_reads_only_the_staff_members_own(desk, contract_a, customer_a_user, manager, django_user_model):
    colleague = django_user_model.objects.create_user("olle", email="olle@desk.example", is_staff=True)
    contract_a.account_managers.add(colleague)
    report(contract_a, customer_a_user)
    assert desk.get("/desk/notices/read/").status_code == 405
    page = desk.post("/desk/notices/read/", follow=True).content.decode()
    assert "All notices are marked read." in page
    assert not StaffNotice.objects.filter(user=manager, read_at__isnull=True).exists()
    assert StaffNotice.objects.filter(user=colleague, read_at__isnull=True).count() == 1


def test_another_staff_members_notices_are_never_shown(client, contract_a, customer_a_user, manager, django_user_model):
    ticket = report(contract_a, customer_a_user)
    colleague = django_user_model.objects.create_user("olle", email="olle@desk.example", is_staff=True)
    client.force_login(colleague)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/desk/notices/").content.decode()
    assert ticket.number not in page and "No notices yet." in page
    assert 'data-testid="notice-count"' not in client.get("/desk/").content.decode()
    client.get(f"/desk/tickets/{ticket.number}/")  # opening it reads only the colleague's own
    assert StaffNotice.objects.get(user=manager).read_at is None


def test_customers_have_no_notices_page(client, customer_a_user):
    client.force_login(customer_a_user)
    assert client.get("/desk/notices/").status_code == 302  # to the staff sign-in
    assert client.get("/desk/preferences/").status_code == 302


def test_the_settings_page_saves_the_switches(desk, manager):
    page = desk.get("/desk/preferences/").content.decode()
    assert "E-mail me about a new report on my contracts" in page and "My tickets: those assigned to you." in page
    assert f'href="/desk/sla/contracts/{manager.managed_contracts.get().pk}/"' in page
    response = desk.post(
        "/desk/preferences/", {"notice_new_report": "on", "email_customer_reply": "on", "language": "en"}, follow=True
    )
    assert "Your settings are saved." in response.content.decode()
    saved = StaffPreferences.objects.get(user=manager)
    assert (
        saved.email_new_report,
        saved.notice_new_report,
        saved.email_customer_reply,
        saved.notice_customer_reply,
        saved.language,
    ) == (False, True, True, False, "en")
    refused = desk.post("/desk/preferences/", {"language": "fi"})
    assert refused.status_code == 200 and "Select a valid choice." in refused.content.decode()
    assert StaffPreferences.objects.get(user=manager).language == "en"


def test_the_settings_are_linked_from_the_header(desk, manager):
    assert 'href="/desk/preferences/"' in desk.get("/desk/").content.decode()


def test_the_notices_page_costs_the_same_queries_for_two_notices_as_for_forty(
    desk, customer_a, dstny, customer_a_user, manager
):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert desk.get("/desk/notices/").status_code == 200
        return len(captured)

    contracts = [ContractFactory(customer=customer_a, terms=dstny) for _ in range(4)]
    for contract in contracts:
        contract.account_managers.add(manager)
    for i in range(2):
        report(contracts[i], customer_a_user)
    few = count()
    for i in range(38):
        report(contracts[i % 4], customer_a_user)
    assert count() == few
    # Session, user, the page's notices (count and rows) and the header's count.
    assert few <= 5
