"""The second hardening round: requests sent twice, files of a rolled-back report, input no
field can hold, fields nobody asked for, names customers should not see, and the headers that
keep pages private and scripts ours."""

import datetime
import json
import threading
import uuid

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from core.models import IdempotentRequest
from sla.models import Claim, Outage
from tests import gunicorn_server
from tests.factories import fault_report
from tests.mail_samples import attachment_only
from tickets import inbound
from tickets.models import Attachment, InboundEmail, Ticket

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 10, 1, 10, 0, tzinfo=datetime.UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def report(contract, **overrides) -> dict:
    return {
        "contract": contract.pk,
        "a_number": "018 12345",
        "b_number": "040 123 4567",
        "fault_occurred_at": "2026-10-01T09:40:00Z",
        "description": "Samtal kopplas inte fram.",
        **overrides,
    }


def travel(moment=NOW):
    return time_machine.travel(moment, tick=False)


# Requests sent twice -----------------------------------------------------------------------


class TestIdempotencyKey:
    def test_the_same_key_and_body_answer_the_first_ticket_again(self, customer_a_api, contract_a):
        key = str(uuid.uuid4())
        with travel():
            first = customer_a_api.post("/api/tickets/", report(contract_a), HTTP_IDEMPOTENCY_KEY=key)
            again = customer_a_api.post("/api/tickets/", report(contract_a), HTTP_IDEMPOTENCY_KEY=key)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert Ticket.objects.count() == 1

    def test_the_same_key_with_another_body_is_refused_and_changes_nothing(self, customer_a_api, contract_a):
        with travel():
            customer_a_api.post("/api/tickets/", report(contract_a), HTTP_IDEMPOTENCY_KEY="k-1")
            other = customer_a_api.post(
                "/api/tickets/", report(contract_a, description="Another fault"), HTTP_IDEMPOTENCY_KEY="k-1"
            )
        assert other.status_code == 422
        assert other.json()["detail"] == (
            "This Idempotency-Key was already used for a different request. Use a new key for a new request."
        )
        assert Ticket.objects.count() == 1

    def test_a_refused_request_keeps_nothing_so_the_corrected_one_may_use_the_key(self, customer_a_api, contract_a):
        with travel():
            wrong = customer_a_api.post("/api/tickets/", report(contract_a, a_number=""), HTTP_IDEMPOTENCY_KEY="k-2")
            right = customer_a_api.post("/api/tickets/", report(contract_a), HTTP_IDEMPOTENCY_KEY="k-2")
        assert wrong.status_code == 400 and right.status_code == 201
        assert Ticket.objects.count() == 1 and IdempotentRequest.objects.count() == 1

    def test_keys_are_each_users_own(self, customer_a_api, staff_api, contract_a):
        with travel():
            mine = customer_a_api.post("/api/tickets/", report(contract_a), HTTP_IDEMPOTENCY_KEY="shared")
            theirs = staff_api.post("/api/tickets/", report(contract_a), HTTP_IDEMPOTENCY_KEY="shared")
        assert mine.status_code == theirs.status_code == 201
        assert mine.json()["number"] != theirs.json()["number"]

    def test_a_key_is_kept_24_hours_and_then_forgotten(self, customer_a_api, contract_a):
        from core.tasks import forget_idempotency_keys

        with travel():
            first = customer_a_api.post("/api/tickets/", report(contract_a), HTTP_IDEMPOTENCY_KEY="day")
        with travel(NOW + datetime.timedelta(hours=23, minutes=59)):
            assert (
                customer_a_api.post("/api/tickets/", report(contract_a), HTTP_IDEMPOTENCY_KEY="day").json()
                == first.json()
            )
            assert forget_idempotency_keys() == 0
        with travel(NOW + datetime.timedelta(hours=24, minutes=1)):
            assert forget_idempotency_keys() == 1
            later = customer_a_api.post("/api/tickets/", report(contract_a), HTTP_IDEMPOTENCY_KEY="day")
        assert later.status_code == 201 and later.json()["number"] != first.json()["number"]

    @pytest.mark.parametrize("key", ["", "with space", "x" * 256, "nul\x7f", "ä"])
    def test_a_key_that_is_not_visible_ascii_is_refused_by_name(self, customer_a_api, contract_a, key):
        response = customer_a_api.post("/api/tickets/", report(contract_a), HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 400 and "Idempotency-Key" in response.json()
        assert not Ticket.objects.exists()

    def test_claims_outages_customers_and_contracts_take_keys_too(self, staff_api, contract_a, customer_a_api):
        outage = {
            "started_at": "2026-09-01T08:00:00Z",
            "ended_at": "2026-09-01T09:00:00Z",
            "kind": "unplanned",
            "responsibility": "supplier",
            "service_wide": True,
        }
        with travel():
            answers = [staff_api.post("/api/outages/", outage, HTTP_IDEMPOTENCY_KEY="o") for _ in range(2)]
            customers = [
                staff_api.post(
                    "/api/customers/", {"name": "Gamma AB", "org_number": "556677-8899"}, HTTP_IDEMPOTENCY_KEY="c"
                )
                for _ in range(2)
            ]
        assert [a.status_code for a in answers] == [201, 201] and Outage.objects.count() == 1
        assert [c.status_code for c in customers] == [201, 201] and customers[0].json() == customers[1].json()

    def test_the_schema_documents_the_header_and_its_422(self, staff_api):
        schema = staff_api.get("/api/schema/?format=json").json()
        create = schema["paths"]["/api/tickets/"]["post"]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
        assert "422" in create["responses"]
        assert not any(
            p["name"] == "Idempotency-Key" for p in schema["paths"]["/api/tickets/"]["get"].get("parameters", [])
        )


@pytest.mark.skipif(
    not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="two gunicorn workers share the database: PostgreSQL",
)
def test_two_requests_with_one_key_at_once_make_one_ticket(seeded, contract_a, customer_a_user):
    """A client that times out and retries while the first request still runs."""
    token = Token.objects.create(user=customer_a_user).key
    body = json.dumps(report(contract_a, fault_occurred_at=datetime.datetime.now(datetime.UTC).isoformat())).encode()
    answers = []

    def send(base):
        import urllib.request

        request = urllib.request.Request(
            f"{base}/api/tickets/",
            data=body,
            method="POST",
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": "retry-1",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append((response.status, json.loads(response.read())["number"]))

    with gunicorn_server.running(workers=2) as base:
        threads = [threading.Thread(target=send, args=(base,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(answers) == 4 and {status for status, _ in answers} == {201}
    assert len({number for _, number in answers}) == 1 and Ticket.objects.count() == 1


class TestFormToken:
    @pytest.fixture
    def customer_client(self, client, customer_a_user):
        client.force_login(customer_a_user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    @staticmethod
    def token_of(page) -> str:
        return page.context["form"]["once"].value()

    def form(self, contract, token, **overrides):
        return {
            "contract": contract.pk,
            "category": "fault",
            "a_number": "018 12345",
            "b_number": "040 123 4567",
            "fault_occurred_at": "2026-10-01T12:40",
            "description": "Samtal kopplas inte fram.",
            "once": token,
            **overrides,
        }

    def test_a_report_sent_twice_is_one_ticket_and_the_second_shows_its_receipt(self, customer_client, contract_a):
        with travel():
            token = self.token_of(customer_client.get("/portal/report/"))
            first = customer_client.post("/portal/report/", self.form(contract_a, token))
            second = customer_client.post("/portal/report/", self.form(contract_a, token), follow=True)
        ticket = Ticket.objects.get()
        assert first.status_code == 302 and first["Location"] == f"/portal/tickets/{ticket.number}/receipt/"
        assert second.redirect_chain == [(f"/portal/tickets/{ticket.number}/receipt/", 302)]
        assert f"This report was already received as {ticket.number}" in second.content.decode()

    def test_each_form_gets_its_own_token(self, customer_client, contract_a):
        with travel():
            tokens = {self.token_of(customer_client.get("/portal/report/")) for _ in range(3)}
            for token in tokens:
                customer_client.post("/portal/report/", self.form(contract_a, token))
        assert len(tokens) == 3 and Ticket.objects.count() == 3

    def test_a_changed_form_sent_with_a_used_token_is_shown_again_ready_to_send(self, customer_client, contract_a):
        with travel():
            token = self.token_of(customer_client.get("/portal/report/"))
            customer_client.post("/portal/report/", self.form(contract_a, token))
            changed = customer_client.post("/portal/report/", self.form(contract_a, token, description="Another fault"))
            number = Ticket.objects.get().number
            page = changed.content.decode()
            assert changed.status_code == 200 and f"already sent and registered as {number}" in page
            assert "Another fault" in page  # nothing the customer wrote is lost
            fresh = self.token_of(changed)
            assert fresh != token
            sent = customer_client.post("/portal/report/", self.form(contract_a, fresh, description="Another fault"))
        assert sent.status_code == 302 and Ticket.objects.count() == 2

    def test_a_phone_report_registered_twice_is_one_ticket(self, client, staff_user, contract_a):
        client.force_login(staff_user)
        with travel():
            token = self.token_of(client.get("/desk/report/"))
            form = {
                **self.form(contract_a, token),
                "customer": contract_a.customer_id,
                "received_at": "2026-10-01T12:45",
            }
            answers = [client.post("/desk/report/", form) for _ in range(2)]
        number = Ticket.objects.get().number
        assert [a["Location"] for a in answers] == [f"/desk/tickets/{number}/"] * 2


# Files of a report that was rolled back ----------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def files_in(folder) -> list:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_a_report_rolled_back_after_its_files_were_written_leaves_no_file(
    client, customer_a_user, contract_a, media, monkeypatch
):
    from django.core.files.storage import FileSystemStorage

    written = []
    original = FileSystemStorage._save

    def second_write_fails(storage, name, content):
        if written:
            raise OSError("No space left on device")
        written.append(name)
        return original(storage, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", second_write_fails)
    client.force_login(customer_a_user)
    shots = [SimpleUploadedFile(f"shot-{i}.png", PNG, content_type="image/png") for i in range(2)]
    with travel(), pytest.raises(OSError):
        client.post("/portal/report/", {**TestFormToken().form(contract_a, ""), "attachments": shots})
    assert written and not files_in(media)  # the first file was written, and removed again
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_a_mail_whose_placing_failed_keeps_no_files_and_is_kept_for_staff(customer_a, contract_a, media, monkeypatch):
    from tickets import attachments

    customer_a.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)
    original = attachments.store

    def store_then_fail(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(attachments, "store", store_then_fail)
    raw = attachment_only()
    with travel():
        record = inbound.receive(raw)
    assert record.outcome == InboundEmail.Outcome.FAILED and not Ticket.objects.exists()
    assert not files_in(media)


def a_fault(contract, user):
    return fault_report(contract, user, a_number="+358 18 12345", b_number="+358 18 54321", description="Ingen ton")


def test_a_reply_that_fails_after_its_files_were_written_leaves_none(customer_a_user, contract_a, media, monkeypatch):
    """The services store files themselves: called without a view around them, a failure after
    the files were written leaves none behind."""
    from tickets import services, staff_notices

    with travel():
        ticket = a_fault(contract_a, customer_a_user)
        written = []

        def fail_after_the_files(ticket, text):
            written.extend(files_in(media))
            raise RuntimeError("the staff notice could not be written")

        monkeypatch.setattr(staff_notices, "customer_replied", fail_after_the_files)
        shot = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
        with pytest.raises(RuntimeError):
            services.ticket_reply(ticket=ticket, actor=customer_a_user, message="Bild", uploads=[shot])
    assert len(written) == 1  # the file was written before the failure
    assert not files_in(media) and not Attachment.objects.exists()


def test_files_stored_inside_a_callers_transaction_need_that_transaction_enclosed(customer_a_user, contract_a, media):
    """A caller's transaction may roll back after the service returned: unless
    kept_if_committed encloses it, the service refuses to write files it could not take back."""
    from django.db import transaction

    from tickets import attachments, services

    with travel():
        ticket = a_fault(contract_a, customer_a_user)

        def reply() -> None:
            shot = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
            services.ticket_reply(ticket=ticket, actor=customer_a_user, message="Bild", uploads=[shot])

        with pytest.raises(RuntimeError, match="put kept_if_committed around that transaction"), transaction.atomic():
            reply()
        assert not files_in(media)
        with pytest.raises(ZeroDivisionError), attachments.kept_if_committed(), transaction.atomic():
            reply()
            assert len(files_in(media)) == 1
            1 / 0  # the caller's transaction fails after the reply was stored
    assert not files_in(media) and not Attachment.objects.exists()


def test_files_of_a_committed_report_stay(client, customer_a_user, contract_a, media):
    client.force_login(customer_a_user)
    shot = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
    with travel():
        client.post("/portal/report/", {**TestFormToken().form(contract_a, ""), "attachments": [shot]})
    assert len(files_in(media)) == 1 and Attachment.objects.count() == 1


# What an answer by e-mail tells ------------------------------------------------------------


def mail(sender: str, subject: str, body: str, message_id: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        "Date: Thu, 01 Oct 2026 12:55:00 +0300\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def test_the_answer_to_an_unknown_sender_repeats_nothing_of_the_mail(contract_a, django_capture_on_commit_callbacks):
    """A forged From makes the desk write to a stranger: the answer must carry none of the
    forger's words (no spam relayed through our reputation)."""
    from django.core import mail as outbox

    forged = mail(
        "victim@elsewhere.example",
        "Vinn en resa! https://evil.example/pris",
        "Ring 0900-123 45 nu och hämta din vinst på https://evil.example",
        "<spam1@elsewhere.example>",
    )
    with travel(), django_capture_on_commit_callbacks(execute=True):
        record = inbound.receive(forged)
    assert record.outcome == InboundEmail.Outcome.QUARANTINED
    [answer] = outbox.outbox
    sent = answer.message().as_string()
    assert answer.to == ["victim@elsewhere.example"]
    for words in ("evil.example", "Vinn", "resa", "0900", "vinst"):
        assert words not in sent


def test_a_customer_naming_another_customers_ticket_learns_no_more_than_for_a_missing_number(
    customer_a,
    contract_a,
    contract_b,
    staff_user,
    django_capture_on_commit_callbacks,
):
    from django.core import mail as outbox

    from tickets import notifications, services
    from tickets.models import Channel

    customer_a.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)
    with travel():
        foreign = services.ticket_create(
            contract=contract_b,
            channel=Channel.PHONE,
            reported_by=staff_user,
            category="support",
            description="Hur flyttar vi ett nummer?",
        )
    missing = foreign.number[:-3] + "999"
    seen = []
    for number, message_id in ((foreign.number, "<q1@alfa.example>"), (missing, "<q2@alfa.example>")):
        outbox.outbox.clear()
        with travel(), django_capture_on_commit_callbacks(execute=True):
            record = inbound.receive(
                mail("Anna <anna@alfa.example>", f"Re: [{number}] Status?", "Hur går det med ärendet?", message_id)
            )
        ours = record.ticket
        assert ours is not None and ours.customer == customer_a  # a new report of A's own
        for notification in ours.notifications.all():
            notifications.send(notification.pk)  # as the worker would
        answers = [
            (
                m.subject.replace(ours.number, "NEW").replace(number, "N"),
                m.body.replace(ours.number, "NEW").replace(number, "N"),
            )
            for m in outbox.outbox
        ]
        seen.append((record.outcome, answers))
    assert seen[0][1] and seen[0] == seen[1]  # the same acknowledgement, word for word
    assert foreign.messages.count() == 0 and foreign.number not in str(seen)


# Input no field can hold -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/tickets/?q=01\x008", "/api/tickets/?terms=dstny\x00"])
def test_a_nul_in_an_api_parameter_is_refused_by_name(staff_api, path):
    response = staff_api.get(path)
    name = path.split("?")[1].split("=")[0]
    assert response.status_code == 400
    assert response.json() == {name: [f"The parameter {name} contains a NUL character."]}


def test_a_nul_in_a_claimed_ticket_number_is_refused_by_name(staff_api, contract_a):
    response = staff_api.post(
        "/api/claims/",
        {"contract": contract_a.pk, "tickets": ["DST-2026-\x00"], "amount": "10", "discovered_on": "2026-10-01"},
    )
    assert response.status_code == 400 and response.json()["tickets"] == ["Invalid value."]


def test_a_nul_in_a_page_parameter_or_form_field_is_refused_by_name(client, staff_user, contract_a):
    client.force_login(staff_user)
    page = client.get("/desk/?q=abc\x00", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400 and page.content.decode() == "The parameter q contains a NUL character."
    swedish = client.get("/desk/?q=abc\x00", HTTP_ACCEPT_LANGUAGE="sv")
    assert swedish.content.decode() == "Parametern q innehåller ett NUL-tecken."
    posted = client.post("/desk/report/", {"description": "a\x00b"}, HTTP_ACCEPT_LANGUAGE="en")
    assert posted.status_code == 400 and "description" in posted.content.decode()
    assert not Ticket.objects.exists()


def test_digits_other_than_0_to_9_are_no_id(client, staff_user, staff_api):
    """str.isdigit() takes "²" and "١٢", int() does not: such a value filters nothing on a page
    and is refused by name in the API, never a 500."""
    client.force_login(staff_user)
    assert client.get("/desk/", {"assignee": "²", "customer": "١٢", "contract": "²"}).status_code == 200
    assert client.get("/desk/inbox/", {"contract_q": "²"}).status_code == 200
    refused = staff_api.get("/api/tickets/", {"page_size": "²"})
    assert refused.status_code == 400 and "page_size" in refused.json()
    assert staff_api.get("/api/terms/²/").status_code == 404


def test_numbers_json_cannot_hold_are_refused_by_field(staff_api, contract_a):
    body = json.dumps(report(contract_a)).replace(f'"contract": {contract_a.pk}', '"contract": 1e309')
    response = staff_api.post("/api/tickets/", body, content_type="application/json")
    assert response.status_code == 400 and list(response.json()) == ["contract"]
    nan = staff_api.post("/api/tickets/", body.replace("1e309", "NaN"), content_type="application/json")
    assert nan.status_code == 400 and "NaN is not a number JSON allows" in nan.json()["detail"]
    assert not Ticket.objects.exists()


def test_json_nested_a_thousand_deep_is_refused(staff_api):
    for deep in ("[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000, "[" * 40 + "]" * 40):
        response = staff_api.post("/api/tickets/", deep, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["detail"] == "JSON parse error - nested deeper than 32 levels."


# Fields nobody asked for -------------------------------------------------------------------


def test_unknown_body_fields_are_refused_by_name_and_nothing_is_stored(staff_api, customer_a_api, contract_a):
    typo = customer_a_api.post("/api/tickets/", report(contract_a, urgnet=True, dicsovered_on="2026-10-01"))
    assert typo.status_code == 400 and typo.json() == {
        "dicsovered_on": ["Unknown field."],
        "urgnet": ["Unknown field."],
    }
    assert not Ticket.objects.exists()
    outage = staff_api.post(
        "/api/outages/",
        {
            "started_at": "2026-09-01T08:00:00Z",
            "kind": "unplanned",
            "responsibility": "supplier",
            "service_wide": True,
            "cause": "x",
        },
    )
    assert outage.status_code == 400 and outage.json() == {"cause": ["Unknown field."]}
    claim = customer_a_api.post(
        "/api/claims/",
        {
            "contract": contract_a.pk,
            "kind": "discount",
            "month": "2026-09",
            "amount": "100",
            "tickets": [],
            "amout": "100",
        },
    )
    assert claim.status_code == 400 and claim.json() == {"amout": ["Unknown field."]}
    assert not Outage.objects.exists() and not Claim.objects.exists()


def test_an_object_read_and_sent_back_is_still_taken(staff_api, contract_a):
    """Read-only fields the API itself answers are not unknown."""
    outage = staff_api.post(
        "/api/outages/",
        {"started_at": "2026-09-01T08:00:00Z", "kind": "unplanned", "responsibility": "supplier", "service_wide": True},
    ).json()
    changed = staff_api.patch(f"/api/outages/{outage['id']}/", {**outage, "ended_at": "2026-09-01T09:00:00Z"})
    assert changed.status_code == 200 and Outage.objects.get().ended_at == datetime.datetime(
        2026, 9, 1, 9, 0, tzinfo=datetime.UTC
    )


# Names customers should not see ------------------------------------------------------------


def test_customers_see_staff_by_first_name_or_as_support(
    customer_a_api, staff_api, staff_user, contract_a, django_user_model
):
    from tickets import services

    with travel():
        ticket = Ticket.objects.get(number=customer_a_api.post("/api/tickets/", report(contract_a)).json()["number"])
        number = ticket.pk
        services.ticket_assign(ticket=ticket, assignee=staff_user, actor=staff_user)
        services.ticket_reply(ticket=ticket, actor=staff_user, message="Vi tittar på det.")
        seen = customer_a_api.get(f"/api/tickets/{number}/").json()
        said = customer_a_api.get(f"/api/tickets/{number}/messages/").json()
        assert seen["assignee"] == "Support" and said["results"][-1]["author"] == "Support"
        staff_user.first_name = "Maja"
        staff_user.save()
        assert customer_a_api.get(f"/api/tickets/{number}/").json()["assignee"] == "Maja"
        assert staff_api.get(f"/api/tickets/{number}/").json()["assignee"] == "staffer"
        assert "staffer" not in customer_a_api.get(f"/api/tickets/{number}/messages/").content.decode()


# Headers -----------------------------------------------------------------------------------


def test_signed_in_pages_api_answers_and_downloads_are_private_and_run_only_our_scripts(
    client, customer_a_user, contract_a, staff_api, media
):
    login = client.get("/accounts/login/")
    policy = login["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    client.force_login(customer_a_user)
    shot = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
    with travel():
        client.post("/portal/report/", {**TestFormToken().form(contract_a, ""), "attachments": [shot]})
    attachment = Attachment.objects.get()
    for answer in (
        client.get("/portal/"),
        client.get(f"/tickets/{attachment.ticket.number}/attachments/{attachment.pk}/"),
        staff_api.get("/api/tickets/"),
    ):
        assert answer["Cache-Control"] == "private, no-store"
        assert answer["Content-Security-Policy"] == policy


def test_no_page_has_inline_script(client, staff_user, customer_a_user, contract_a):
    """The policy allows only script files of the desk: a page with inline script would break."""
    import re

    pages = []
    client.force_login(staff_user)
    pages += [client.get(path) for path in ("/desk/", "/desk/report/", "/desk/sla/", "/desk/claims/", "/api/docs/")]
    client.force_login(customer_a_user)
    pages += [client.get(path) for path in ("/portal/", "/portal/report/")]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
        assert all("src=" in attributes and not body.strip() for attributes, body in scripts), page.request["PATH_INFO"]
        assert not re.search(r"\son[a-z]+\s*=", html), page.request["PATH_INFO"]  # no onclick= and the like
