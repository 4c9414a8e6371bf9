"""The audit log as an operator's security officer reads it: every sign-in, failed or not, every
sign-out, API token and change of rights, and every look staff take at a customer's data, each
with when, who and from where; rows nobody can change or delete, removed only after
AUDIT_RETENTION_DAYS; readable by administrators alone."""

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model, login
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from audit import services as audit
from audit.models import Action, AppendOnly, AuditEvent
from sla import reports
from tests.conftest import api_client
from tests.factories import CustomerUserFactory, fault_report
from tickets import attachments, services, tasks

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=MARIEHAMN)
PASSWORD = "x-customer-pass-42"  # tests.factories.CustomerUserFactory


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def events(action=None) -> list[AuditEvent]:
    found = AuditEvent.objects.order_by("at", "id")
    return list(found.filter(action=action) if action else found)


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def ticket(contract_a, customer_a_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ticket = fault_report(contract_a, customer_a_user)
    checked = attachments.upload_problems([SimpleUploadedFile("trace.log", b"INVITE sip:100@pbx SIP/2.0\r\n")])[0]
    attachments.store(ticket, checked, actor=customer_a_user)
    return ticket


# Signing in and out ---------------------------------------------------------------------------


def test_a_wrong_password_a_right_one_and_signing_out_are_each_recorded(client, customer_a_user):
    wrong = client.post("/accounts/login/", {"login": "alfa-user", "password": "not-my-password"})
    assert wrong.status_code == 200  # the form again, with its error
    client.post("/accounts/login/", {"login": "alfa-user", "password": PASSWORD})
    client.post("/accounts/logout/")
    failed, signed_in, signed_out = events()
    assert (failed.action, failed.actor, failed.actor_name, failed.ip) == (
        Action.SIGN_IN_FAILED,
        None,
        "alfa-user",
        "127.0.0.1",
    )
    assert "not-my-password" not in str(failed.detail) + failed.what  # the password is never kept
    assert (signed_in.action, signed_in.actor, signed_in.actor_name, signed_in.ip) == (
        Action.SIGNED_IN,
        customer_a_user,
        "alfa-user",
        "127.0.0.1",
    )
    assert (signed_out.action, signed_out.actor) == (Action.SIGNED_OUT, customer_a_user)


def test_a_failed_sign_in_keeps_the_name_tried_even_when_nobody_has_it(client):
    client.post("/accounts/login/", {"login": "root", "password": "toor"})
    [failed] = events(Action.SIGN_IN_FAILED)
    assert failed.actor_name == "root" and failed.actor is None


def test_single_sign_on_names_its_own_action_on_the_request(customer_a_user):
    request = RequestFactory().get("/accounts/oidc/callback/", REMOTE_ADDR="192.0.2.7")
    request.session = SessionStore()
    request.audit_sign_in_action = Action.SSO_SIGNED_IN
    request.audit_sign_in_detail = {"provider": "entra", "amr": ["pwd", "mfa"]}
    login(request, customer_a_user, backend="django.contrib.auth.backends.ModelBackend")
    [event] = events()
    assert (event.action, event.actor, event.ip) == (Action.SSO_SIGNED_IN, customer_a_user, "192.0.2.7")
    assert event.detail == {"provider": "entra", "amr": ["pwd", "mfa"]}


def test_behind_the_proxy_the_address_it_appended_is_recorded_and_nonsense_is_left_out(client, settings):
    settings.BEHIND_TLS_PROXY = True
    client.post("/accounts/login/", {"login": "a", "password": "b"}, HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.4")
    audit.record(Action.SIGN_IN_FAILED, request=RequestFactory().get("/", HTTP_X_FORWARDED_FOR="unknown"))
    assert [event.ip for event in events()] == ["198.51.100.4", None]


# API tokens and rights ---------------------------------------------------------------------------


def test_tokens_made_and_revoked_in_the_admin_or_by_manage_py_are_recorded(admin_client, admin_user, customer_a_user):
    admin_client.post("/admin/authtoken/tokenproxy/add/", {"user": customer_a_user.pk})
    assert Token.objects.filter(user=customer_a_user).exists()
    admin_client.post(f"/admin/authtoken/tokenproxy/{customer_a_user.pk}/delete/", {"post": "yes"})
    assert not Token.objects.filter(user=customer_a_user).exists()
    call_command("drf_create_token", "alfa-user", stdout=io.StringIO())
    created, revoked, by_command = events()[-3:]
    assert (created.action, created.actor, created.subject_user, created.ip) == (
        Action.TOKEN_CREATED,
        admin_user,
        customer_a_user,
        "127.0.0.1",
    )
    assert (revoked.action, revoked.actor, revoked.subject_name) == (Action.TOKEN_REVOKED, admin_user, "alfa-user")
    assert (by_command.action, by_command.actor, by_command.ip, by_command.subject_user) == (
        Action.TOKEN_CREATED,
        None,
        None,
        customer_a_user,
    )
    assert Token.objects.get(user=customer_a_user).key not in str(by_command.detail) + by_command.what


def test_rights_given_in_the_admins_user_form_are_recorded_before_and_after(admin_client, admin_user):
    support = Group.objects.create(name="Support")
    colleague = get_user_model().objects.create_user("kim", email="kim@desk.example", password="x-kim-pass-42")
    form = {
        "username": "kim",
        "email": "kim@desk.example",
        "first_name": "Kim",
        "last_name": "",
        "is_active": "on",
        "is_staff": "on",
        "groups": [support.pk],
        "date_joined_0": "2026-10-01",
        "date_joined_1": "09:00:00",
        "initial-date_joined_0": "2026-10-01",
        "initial-date_joined_1": "09:00:00",
    }
    response = admin_client.post(f"/admin/auth/user/{colleague.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()
    staff, groups = AuditEvent.objects.filter(action=Action.RIGHTS_CHANGED, subject_user=colleague).order_by("id")
    assert (staff.actor, staff.subject_user, staff.ip) == (admin_user, colleague, "127.0.0.1")
    assert staff.detail == {"before": {"is_staff": False}, "after": {"is_staff": True}}
    assert (groups.actor, groups.subject_user) == (admin_user, colleague)
    assert groups.detail == {"before": {"groups": []}, "after": {"groups": ["Support"]}}
    # The same form saved again changes nothing and records nothing.
    admin_client.post(f"/admin/auth/user/{colleague.pk}/change/", form)
    assert AuditEvent.objects.filter(action=Action.RIGHTS_CHANGED, subject_user=colleague).count() == 2


def test_rights_changed_from_the_shell_are_recorded_without_an_actor(customer_a_user):
    customer_a_user.is_superuser = True
    customer_a_user.save()
    customer_a_user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    support = Group.objects.create(name="Support")
    support.permissions.add(Permission.objects.get(codename="view_ticket"))
    customer_a_user.last_login = NOW
    customer_a_user.save(update_fields=["last_login"])  # not a right: nothing read, nothing recorded
    superuser, permission, group = events(Action.RIGHTS_CHANGED)
    assert (superuser.actor, superuser.subject_user, superuser.detail["after"]) == (
        None,
        customer_a_user,
        {"is_superuser": True},
    )
    assert permission.detail["after"] == {"user_permissions": ["audit.view_auditevent"]}
    assert (group.subject_user, group.what, group.detail["after"]) == (
        None,
        "group Support",
        {"permissions": ["tickets.view_ticket"]},
    )


# Staff viewing customers' data --------------------------------------------------------------------


def test_staff_opening_a_ticket_its_file_a_customer_or_a_billing_export_is_recorded(
    desk, staff_user, ticket, contract_a, customer_a
):
    file = ticket.attachments.get()
    assert desk.get(f"/desk/tickets/{ticket.number}/").status_code == 200
    assert desk.get(f"/tickets/{ticket.number}/attachments/{file.pk}/").status_code == 200
    assert desk.get(f"/desk/customers/{customer_a.pk}/").status_code == 200
    reports.store_month(2026, 10)
    assert desk.get("/desk/sla/export.csv?month=2026-10&format=sv").status_code == 200
    page, download, customer, export = events(Action.VIEWED)
    assert (page.actor, page.ticket_number, page.customer_id, page.what) == (
        staff_user,
        ticket.number,
        customer_a.pk,
        f"/desk/tickets/{ticket.number}/",
    )
    assert (download.ticket_number, download.customer_id, download.detail) == (
        ticket.number,
        customer_a.pk,
        {"file": "trace.log"},
    )
    assert (customer.customer_id, customer.ticket_number) == (customer_a.pk, "")
    assert export.what == "/desk/sla/export.csv?month=2026-10&format=sv"
    assert export.detail == {"month": "2026-10", "format": "sv"}


def test_a_customer_reading_its_own_ticket_is_not_staff_viewing_it(client, customer_a_user, ticket):
    client.force_login(customer_a_user)
    file = ticket.attachments.get()
    assert client.get(f"/portal/tickets/{ticket.number}/").status_code == 200
    assert client.get(f"/tickets/{ticket.number}/attachments/{file.pk}/").status_code == 200
    assert events(Action.VIEWED) == []


def test_the_desks_ticket_page_costs_one_insert_more_and_reads_nothing_of_the_log(
    desk, staff_user, contract_a, customer_a_user
):
    ticket = fault_report(contract_a, customer_a_user)
    services.ticket_reply(ticket=ticket, actor=staff_user, message="Svar")
    desk.get(f"/desk/tickets/{ticket.number}/")
    with CaptureQueriesContext(connection) as captured:
        assert desk.get(f"/desk/tickets/{ticket.number}/").status_code == 200
    # 19 queries before the audit log (session, user, the ticket and its timeline, files, time log,
    # other open tickets, canned replies, colleagues, links, answer, previews, notices, contacts,
    # assignees, e-mails), and the view's INSERT into audit_auditevent.
    assert len(captured) == 20
    touching = [query["sql"] for query in captured if "audit_auditevent" in query["sql"]]
    assert len(touching) == 1 and touching[0].startswith("INSERT")


# Nobody changes or deletes a row --------------------------------------------------------------------


def test_a_row_cannot_be_changed_or_deleted_through_the_model(customer_a_user):
    event = audit.record(Action.SIGNED_IN, actor=customer_a_user)
    event.what = "rewritten"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(what="rewritten")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).what == ""


def test_the_admin_and_the_api_only_read_the_log(admin_client, admin_user, customer_a_user):
    event = audit.record(Action.SIGNED_IN, actor=customer_a_user)
    assert admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200  # read
    assert admin_client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"what": "x"}).status_code == 403
    assert admin_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    changelist = admin_client.get("/admin/audit/auditevent/").content.decode()
    assert "delete_selected" not in changelist
    api = api_client()
    api.force_authenticate(admin_user)
    assert api.post("/api/audit-events/", {"what": "x"}).status_code == 405
    assert api.delete("/api/audit-events/").status_code == 405
    assert AuditEvent.objects.get(pk=event.pk).what == ""


def test_a_deleted_user_leaves_their_rows_with_their_name(customer_a_user):
    Token.objects.create(user=customer_a_user)
    audit.record(Action.SIGNED_IN, actor=customer_a_user)
    customer_a_user.delete()
    rows = {
        (event.action, event.actor_id, event.actor_name, event.subject_user_id, event.subject_name)
        for event in events()
    }
    assert (Action.SIGNED_IN, None, "alfa-user", None, "") in rows
    assert (Action.TOKEN_REVOKED, None, "", None, "alfa-user") in rows


def test_the_nightly_retention_removes_rows_older_than_the_setting(settings, customer_a_user):
    settings.AUDIT_RETENTION_DAYS = 730
    for days in (731, 729):
        with time_machine.travel(NOW - datetime.timedelta(days=days), tick=False):
            audit.record(Action.SIGNED_IN, actor=customer_a_user, what=f"{days} days ago")
    with time_machine.travel(NOW, tick=False):
        done = tasks.apply_retention()
    assert "1 audit events removed" in done
    assert [event.what for event in events()] == ["729 days ago"]


# The API --------------------------------------------------------------------------------------------


@pytest.fixture
def log(customer_a, customer_b, customer_a_user, staff_user):
    """A week of events: sign-ins of two people, staff viewing both customers."""
    other = CustomerUserFactory(customer=customer_b, username="beta-user")
    with time_machine.travel(NOW - datetime.timedelta(days=6), tick=False):
        audit.record(Action.SIGNED_IN, actor=customer_a_user)
        audit.record(Action.SIGN_IN_FAILED, actor_name="beta-user")
    with time_machine.travel(NOW - datetime.timedelta(days=3), tick=False):
        audit.record(Action.SIGNED_IN, actor=other)
        audit.record(Action.VIEWED, actor=staff_user, customer=customer_a, ticket_number="DST-2026-000001")
    with time_machine.travel(NOW - datetime.timedelta(days=1), tick=False):
        audit.record(Action.VIEWED, actor=staff_user, customer=customer_b, what="/desk/customers/2/")
        audit.record(Action.SIGNED_OUT, actor=customer_a_user)


@pytest.fixture
def admin_api(admin_user):
    client = api_client()
    client.force_authenticate(admin_user)
    return client


def listed(api, query="") -> list[tuple]:
    response = api.get(f"/api/audit-events/{query}")
    assert response.status_code == 200, response.json()
    return [(row["action"], row["actor_name"]) for row in response.json()["results"]]


def test_administrators_filter_the_log_by_actor_action_customer_and_time(admin_api, log, customer_a):
    assert listed(admin_api, "?actor=beta-user") == [("signed_in", "beta-user"), ("sign_in_failed", "beta-user")]
    assert listed(admin_api, "?action=viewed") == [("viewed", "staffer"), ("viewed", "staffer")]
    assert listed(admin_api, f"?customer={customer_a.pk}") == [("viewed", "staffer")]
    since = (NOW - datetime.timedelta(days=3)).isoformat()
    until = (NOW - datetime.timedelta(days=1)).isoformat()
    # Inclusive from `since`, up to but not including `until`; a "+" sent unencoded is a space.
    assert listed(admin_api, f"?since={since}&until={until}".replace("+", "%2B")) == [
        ("viewed", "staffer"),
        ("signed_in", "beta-user"),
    ]
    assert listed(admin_api, f"?since={since}&action=signed_in") == [("signed_in", "beta-user")]
    assert listed(admin_api, f"?until={until}".replace("+", " ")) == listed(
        admin_api, f"?until={until}".replace("+", "%2B")
    )
    [row] = admin_api.get(f"/api/audit-events/?customer={customer_a.pk}").json()["results"]
    assert row["ticket_number"] == "DST-2026-000001" and row["customer"] == customer_a.pk
    assert set(row) == {
        "id",
        "at",
        "action",
        "actor",
        "actor_name",
        "ip",
        "customer",
        "ticket_number",
        "subject_user",
        "subject_name",
        "what",
        "detail",
    }


def test_any_offset_iso_8601_allows_is_read_even_past_what_the_database_stores(admin_api, log):
    # PostgreSQL takes offsets up to 15 hours; the API reads the time in UTC.
    # 2026-11-21 07:15 UTC, two days before NOW: the last day's two events.
    assert listed(admin_api, "?since=2026-11-22T05:00:00%2B21:45&until=2026-11-23T08:00:00Z") == [
        ("signed_out", "alfa-user"),
        ("viewed", "staffer"),
    ]
    assert listed(admin_api, "?since=9999-12-31T23:00:00-05:00") == []


def test_the_log_pages_as_every_list(admin_api, log):
    # Before NOW: the fixtures' users were made (and their rights recorded) at NOW itself.
    until = "until=" + NOW.isoformat().replace("+", "%2B")
    first = admin_api.get(f"/api/audit-events/?page_size=4&{until}").json()
    second = admin_api.get(f"/api/audit-events/?page_size=4&page=2&{until}").json()
    assert first["count"] == 6 and len(first["results"]) == 4 and len(second["results"]) == 2
    assert first["results"][0]["action"] == "signed_out"  # newest first
    assert second["next"] is None and "page=2" in first["next"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "since"),
        ("until=2026-11-23T10:00:00", "until"),  # no offset: never guessed
        ("since=1999-12-31T23:00:00Z", "since"),
        ("since=2026-13-45T00:00:00Z", "since"),
        ("action=deleted", "action"),
        ("customer=0", "customer"),
        ("actor=%20", "actor"),
        ("actor=a&actor=b", "actor"),
        ("page_size=500", "page_size"),
    ],
)
def test_a_filter_the_log_cannot_read_is_refused_by_name(admin_api, query, field):
    response = admin_api.get(f"/api/audit-events/?{query}")
    assert response.status_code == 400 and field in response.json(), response.json()


def test_customers_and_plain_staff_are_refused_and_see_nothing(log, customer_a_api, staff_api, staff_user):
    for client in (customer_a_api, staff_api):
        response = client.get("/api/audit-events/?actor=alfa-user")
        assert response.status_code == 403
        assert "alfa-user" not in response.content.decode()
    assert api_client().get("/api/audit-events/").status_code == 401
    staff_user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    reader = api_client()
    reader.force_authenticate(get_user_model().objects.get(pk=staff_user.pk))  # permissions read afresh
    assert reader.get("/api/audit-events/").status_code == 200


def test_a_customer_given_the_permission_by_mistake_still_sees_nothing(log, customer_a_user):
    customer_a_user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client = api_client()
    client.force_authenticate(get_user_model().objects.get(pk=customer_a_user.pk))
    assert client.get("/api/audit-events/").status_code == 403


# The admin's CSV ----------------------------------------------------------------------------------


def csv_rows(response, delimiter):
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8 only with the mark
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def test_the_admin_downloads_the_filtered_list_as_swedish_or_english_excel_reads_it(admin_client, log, client):
    client.post("/accounts/login/", {"login": '=HYPERLINK("http://evil.example")', "password": "x"})
    page = admin_client.get("/admin/audit/auditevent/?action__exact=viewed", HTTP_ACCEPT_LANGUAGE="en")
    assert 'href="/admin/audit/auditevent/csv/?action__exact=viewed"' in page.content.decode()
    swedish = admin_client.get("/admin/audit/auditevent/csv/?action__exact=viewed", HTTP_ACCEPT_LANGUAGE="sv")
    assert swedish["Content-Type"] == "text/csv; charset=utf-8"
    header, newest, older = csv_rows(swedish, ";")
    assert header[:3] == ["när", "vad som hände", "användarnamn"]
    assert newest[1:3] == ["Visade", "staffer"] and newest[4] == "Beta AB" and newest[7] == "/desk/customers/2/"
    assert newest[0] == "2026-11-22 09:00:00+01:00"  # the desk's time (TIME_ZONE), with its offset
    assert older[4:6] == ["Alfa Ab", "DST-2026-000001"]
    english = admin_client.get("/admin/audit/auditevent/csv/?action__exact=sign_in_failed", HTTP_ACCEPT_LANGUAGE="en")
    header, *rows = csv_rows(english, ",")
    assert header[:3] == ["when", "what happened", "user name"]
    assert sorted(row[2] for row in rows) == ['\'=HYPERLINK("http://evil.example")', "beta-user"]


def test_the_csv_is_for_those_who_read_the_log(client, staff_user, log):
    client.force_login(staff_user)
    assert client.get("/admin/audit/auditevent/csv/").status_code == 403
