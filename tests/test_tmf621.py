"""TM Forum TMF621 Trouble Ticket v5 beside our own API: a client written from the official
document reads, opens and follows tickets, and every answer it gets and every event it is sent
is checked against that document's component schemas (tests/tmf621_spec.py)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.server
import json
import shutil
import socket
import ssl
import subprocess
import threading

import pytest
from django.utils import timezone

from tests.conftest import api_client
from tests.ports import free_port
from tests.test_worker import redis_broker  # noqa: F401 - the fixture, for the real worker's test
from tests.tmf621_spec import validate
from tickets import references, services
from tickets.models import AttachmentReference, Classification, Ticket, TicketEvent
from tmf621 import delivery
from tmf621.models import Event, Listener

BASE = "/tmf-api/troubleTicketManagement/v5"
FAULT_AT = datetime.datetime(2026, 11, 30, 9, 30, tzinfo=datetime.UTC)


def client_for(user):
    client = api_client()
    client.force_authenticate(user)
    return client


def fault(contract, reporter, **overrides):
    fields = dict(
        contract=contract,
        description="No incoming calls on the switchboard",
        channel="api",
        reported_by=reporter,
        a_number="018-123 45",
        b_number="+46701234567",
        fault_occurred_at=FAULT_AT,
    )
    return services.ticket_create(**{**fields, **overrides})


def get_json(client, path, component="TroubleTicket_RES", status=200):
    response = client.get(path)
    assert response.status_code == status, response.content
    body = response.json()
    if isinstance(body, list):
        for item in body:
            validate(item, component)
    else:
        validate(body, component if status == 200 else "Error")
    return response, body


@pytest.fixture(autouse=True)
def _loopback_listeners(settings):
    """The test listeners run on loopback, which production refuses."""
    settings.TMF621_PRIVATE_CALLBACKS = True


@pytest.fixture
def tmf_a(customer_a_user):
    return client_for(customer_a_user)


class TestReading:
    def test_a_ticket_reads_as_a_trouble_ticket_with_our_fields_mapped(
        self, tmf_a, contract_a, customer_a_user, staff_user
    ):
        ticket = fault(contract_a, customer_a_user, urgent=True)
        services.ticket_reply(ticket=ticket, actor=staff_user, message="Looking into it")
        services.ticket_reply(ticket=ticket, actor=staff_user, message="Staff only: check the trunk", internal=True)

        _, body = get_json(tmf_a, f"{BASE}/troubleTicket/{ticket.pk}")

        assert body["id"] == str(ticket.pk) and body["href"].endswith(f"{BASE}/troubleTicket/{ticket.pk}")
        assert body["externalIdentifier"][0]["id"] == ticket.number
        assert (body["ticketType"], body["severity"], body["status"]) == ("fault", "critical", "acknowledged")
        characteristics = {item["name"]: item["value"] for item in body["troubleTicketCharacteristic"]}
        assert characteristics["aNumber"] == "+3581812345" and characteristics["bNumber"] == "+46701234567"
        assert characteristics["faultOccurredAt"] == "2026-11-30T09:30:00Z"
        assert characteristics["serviceStartBreached"] is False and "serviceStartDue" in characteristics
        assert "expectedResolutionDate" not in body
        assert [party["role"] for party in body["relatedParty"]] == ["customer", "contact"]
        assert body["relatedEntity"][0]["entity"]["id"] == str(contract_a.pk)
        assert [note["text"] for note in body["note"]] == ["Looking into it"]  # never the internal note
        assert [change["status"] for change in body["statusChangeHistory"]] == ["acknowledged"]

    def test_attachments_are_references_to_their_download_address(
        self, tmf_a, contract_a, customer_a_user, customer_b, settings, tmp_path
    ):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from tickets import attachments

        settings.MEDIA_ROOT = tmp_path
        ticket = fault(contract_a, customer_a_user)
        checked = attachments.upload_problems([SimpleUploadedFile("trace.log", b"INVITE sip:1@pbx SIP/2.0\r\n")])[0]
        stored = attachments.store(ticket, checked, actor=customer_a_user)[0]
        _, body = get_json(tmf_a, f"{BASE}/troubleTicket/{ticket.pk}")
        [reference] = body["attachment"]
        assert (reference["@type"], reference["name"]) == ("AttachmentRef", "trace.log")
        assert reference["url"].endswith(f"/tickets/{ticket.number}/attachments/{stored.pk}/")
        # An OSS follows the address with its token, as it reads the API; nobody else can.
        from django.test import Client
        from rest_framework.authtoken.models import Token

        from tests.factories import CustomerUserFactory

        path = reference["url"].removeprefix(settings.SITE_URL)
        own = Token.objects.create(user=customer_a_user).key
        other = Token.objects.create(user=CustomerUserFactory(customer=customer_b)).key
        downloaded = Client().get(path, HTTP_AUTHORIZATION=f"Token {own}")
        assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content).startswith(b"INVITE")
        assert Client().get(path, HTTP_AUTHORIZATION=f"Token {other}").status_code == 404
        assert Client().get(path, HTTP_AUTHORIZATION="Token not-a-token").status_code == 401
        assert Client().get(path).status_code == 302  # a browser without a session signs in first

    def test_staff_read_internal_notes_too(self, staff_user, contract_a, customer_a_user):
        ticket = fault(contract_a, customer_a_user)
        services.ticket_reply(ticket=ticket, actor=staff_user, message="Staff only", internal=True)
        _, body = get_json(client_for(staff_user), f"{BASE}/troubleTicket/{ticket.pk}")
        assert [note["text"] for note in body["note"]] == ["Staff only"]

    def test_another_customers_ticket_answers_exactly_as_a_missing_one(self, contract_b, customer_b, tmf_a):
        from tests.factories import CustomerUserFactory

        theirs = fault(contract_b, CustomerUserFactory(customer=customer_b), a_number="070-123 45 67")
        _, foreign = get_json(tmf_a, f"{BASE}/troubleTicket/{theirs.pk}", status=404)
        _, missing = get_json(tmf_a, f"{BASE}/troubleTicket/{theirs.pk + 1000}", status=404)
        assert foreign["code"] == missing["code"] == "ERR404"
        assert foreign["message"].replace(str(theirs.pk), "N") == missing["message"].replace(str(theirs.pk + 1000), "N")
        _, listed = get_json(tmf_a, f"{BASE}/troubleTicket")
        assert listed == []

    def test_the_list_pages_with_offset_and_limit_and_counts_in_headers(self, tmf_a, contract_a, customer_a_user):
        tickets = [fault(contract_a, customer_a_user) for _ in range(3)]
        response, body = get_json(tmf_a, f"{BASE}/troubleTicket?offset=1&limit=1")
        assert response["X-Total-Count"] == "3" and response["X-Result-Count"] == "1"
        assert [item["id"] for item in body] == [str(tickets[1].pk)]  # newest first

    def test_sort_orders_by_creation_date_either_way(self, tmf_a, contract_a, customer_a_user):
        tickets = [fault(contract_a, customer_a_user) for _ in range(3)]
        _, oldest_first = get_json(tmf_a, f"{BASE}/troubleTicket?sort=creationDate")
        _, newest_first = get_json(tmf_a, f"{BASE}/troubleTicket?sort=-creationDate")
        assert [item["id"] for item in oldest_first] == [str(ticket.pk) for ticket in tickets]
        assert [item["id"] for item in newest_first] == [str(ticket.pk) for ticket in reversed(tickets)]

    def test_fields_selects_attributes_and_keeps_the_required_ones(self, tmf_a, contract_a, customer_a_user):
        fault(contract_a, customer_a_user)
        _, body = get_json(tmf_a, f"{BASE}/troubleTicket?fields=status,severity")
        assert set(body[0]) == {"@type", "id", "href", "status", "severity"}

    def test_filters_by_status_severity_type_creation_date_and_party(
        self, tmf_a, contract_a, customer_a_user, staff_user
    ):
        urgent = fault(contract_a, customer_a_user, urgent=True)
        started = fault(contract_a, customer_a_user)
        services.ticket_start(ticket=started, actor=staff_user)
        support = fault(
            contract_a, customer_a_user, category="support", a_number="", b_number="", fault_occurred_at=None
        )

        def ids(query):
            return {int(item["id"]) for item in get_json(tmf_a, f"{BASE}/troubleTicket?{query}")[1]}

        assert ids("status=inProgress") == {started.pk}
        assert ids("status=acknowledged,inProgress") == {urgent.pk, started.pk, support.pk}
        assert ids("severity=critical") == {urgent.pk}
        assert ids("ticketType=support") == {support.pk}
        assert ids(f"relatedParty.id={contract_a.customer_id}") == {urgent.pk, started.pk, support.pk}
        assert ids("creationDate.lt=2026-01-01T00:00:00Z") == set()
        assert ids("creationDate.gt=2026-01-01T00:00:00Z") == {urgent.pk, started.pk, support.pk}

    @pytest.mark.parametrize(
        "query",
        [
            "status=open",
            "severity=5",
            "creationDate.gt=yesterday",
            "limit=0",
            "creationDate.lt=2026-13-45T00:00:00Z",
            "offset=-1",
            "colour=red",
            "relatedParty.id=abc",
            "sort=severity",
        ],
    )
    def test_a_filter_that_cannot_be_meant_is_refused_by_name(self, tmf_a, query):
        _, body = get_json(tmf_a, f"{BASE}/troubleTicket?{query}", status=400)
        assert query.split("=")[0].split(".")[0] in body["message"]

    def test_the_list_reads_in_a_fixed_number_of_queries(
        self, tmf_a, contract_a, customer_a_user, staff_user, django_assert_max_num_queries
    ):
        for index in range(5):
            ticket = fault(contract_a, customer_a_user)
            services.ticket_reply(ticket=ticket, actor=staff_user, message="On it")
            references.reference_add(ticket=ticket, actor=staff_user, url=f"https://f.example/{index}", name="log")
        # The tickets, their count, and one query each for status changes, notes, files and links.
        with django_assert_max_num_queries(6):
            response = tmf_a.get(f"{BASE}/troubleTicket")
        assert len(response.json()) == 5

    def test_the_base_path_of_the_documents_servers_entry_serves_the_same(self, tmf_a, contract_a, customer_a_user):
        ticket = fault(contract_a, customer_a_user)
        _, body = get_json(tmf_a, f"/tmf-api/troubleTicket/v5/troubleTicket/{ticket.pk}")
        assert body["href"].endswith(f"{BASE}/troubleTicket/{ticket.pk}")

    def test_without_credentials_the_answer_is_an_error_body(self):
        response = api_client().get(f"{BASE}/troubleTicket")
        assert response.status_code == 401
        validate(response.json(), "Error")


def new_fault(contract, **overrides) -> dict:
    """A TroubleTicket_FVO as the specification describes it."""
    body = {
        "@type": "TroubleTicket",
        "description": "No incoming calls on the switchboard since 09:30",
        "severity": "critical",
        "ticketType": "fault",
        "relatedEntity": [
            {"@type": "RelatedEntity", "role": "contract", "entity": {"@type": "EntityRef", "id": str(contract.pk)}}
        ],
        "troubleTicketCharacteristic": [
            {"@type": "StringCharacteristic", "name": "aNumber", "valueType": "string", "value": "018-123 45"},
            {"@type": "StringCharacteristic", "name": "bNumber", "valueType": "string", "value": "+46701234567"},
            {
                "@type": "StringCharacteristic",
                "name": "faultOccurredAt",
                "valueType": "string",
                "value": "2026-11-30T09:30:00Z",
            },
        ],
    }
    body.update(overrides)
    validate(body, "TroubleTicket_FVO")
    return body


def patch(client, ticket_id, body, status=200, content_type="application/merge-patch+json"):
    validate({"@type": "TroubleTicket", **body}, "TroubleTicket_MVO")
    response = client.patch(f"{BASE}/troubleTicket/{ticket_id}", json.dumps(body), content_type=content_type)
    assert response.status_code == status, response.content
    validate(response.json(), "TroubleTicket_RES" if status == 200 else "Error")
    return response.json()


class TestWriting:
    def test_a_customer_opens_a_fault_on_its_contract(self, tmf_a, contract_a):
        response = tmf_a.post(f"{BASE}/troubleTicket", new_fault(contract_a), format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        validate(body, "TroubleTicket_RES")
        assert response["Location"] == body["href"]
        assert (body["status"], body["severity"]) == ("acknowledged", "critical")
        assert body["externalIdentifier"][0]["id"].startswith("DST-")

    def test_the_same_idempotency_key_opens_one_ticket(self, tmf_a, contract_a):
        first = tmf_a.post(f"{BASE}/troubleTicket", new_fault(contract_a), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        again = tmf_a.post(f"{BASE}/troubleTicket", new_fault(contract_a), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == again.status_code == 201
        assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
        assert Ticket.objects.count() == 1

    def test_a_fault_without_its_numbers_is_refused_naming_the_characteristic(self, tmf_a, contract_a):
        response = tmf_a.post(
            f"{BASE}/troubleTicket", new_fault(contract_a, troubleTicketCharacteristic=[]), format="json"
        )
        assert response.status_code == 400
        validate(response.json(), "Error")
        assert "troubleTicketCharacteristic aNumber" in response.json()["message"]
        assert "D §16.9" in response.json()["message"]

    @pytest.mark.parametrize("when", ["2026-13-45T09:30:00Z", "yesterday", "2026-11-30T09:30:00"])
    def test_a_fault_time_that_is_no_moment_is_refused(self, tmf_a, contract_a, when):
        body = new_fault(contract_a)
        body["troubleTicketCharacteristic"][2]["value"] = when
        response = tmf_a.post(f"{BASE}/troubleTicket", body, format="json")
        assert response.status_code == 400
        assert "faultOccurredAt" in response.json()["message"] and "offset" in response.json()["message"]

    def test_another_customers_contract_cannot_be_named(self, tmf_a, contract_b):
        response = tmf_a.post(f"{BASE}/troubleTicket", new_fault(contract_b), format="json")
        assert response.status_code == 400
        assert "no contract has the id" in response.json()["message"]

    def test_staff_open_a_ticket_for_the_customer_the_contract_names(self, staff_user, contract_b):
        support = new_fault(contract_b, ticketType="support", severity="minor", troubleTicketCharacteristic=[])
        response = client_for(staff_user).post(f"{BASE}/troubleTicket", support, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["relatedParty"][0]["partyOrPartyRole"]["id"] == str(contract_b.customer_id)

    def test_staff_ask_with_a_note_and_the_customers_note_takes_it_back_in_progress(
        self, tmf_a, staff_user, contract_a, customer_a_user
    ):
        ticket = fault(contract_a, customer_a_user)
        staff = client_for(staff_user)
        refused = patch(staff, ticket.pk, {"status": "pending"}, status=400)
        assert "note" in refused["message"]
        asked = patch(staff, ticket.pk, {"status": "pending", "note": [{"@type": "Note", "text": "Which extension?"}]})
        assert asked["status"] == "pending"
        answered = patch(tmf_a, ticket.pk, {"note": [*asked["note"], {"@type": "Note", "text": "Extension 204"}]})
        assert answered["status"] == "inProgress"
        assert [note["text"] for note in answered["note"]] == ["Which extension?", "Extension 204"]

    def test_a_customer_cancels_but_does_not_resolve(self, tmf_a, contract_a, customer_a_user):
        ticket = fault(contract_a, customer_a_user)
        refused = patch(tmf_a, ticket.pk, {"status": "resolved"}, status=403)
        assert refused["code"] == "ERR403"
        cancelled = patch(tmf_a, ticket.pk, {"status": "cancelled", "statusChangeReason": "It works again"})
        assert cancelled["status"] == "cancelled"
        assert cancelled["statusChangeHistory"][-1]["status"] == "cancelled"

    def test_staff_resolve_a_classified_fault_and_close_it(self, staff_user, contract_a, customer_a_user):
        ticket = fault(contract_a, customer_a_user)
        services.ticket_classify(ticket=ticket, actor=staff_user, classification=Classification.FAULT)
        staff = client_for(staff_user)
        assert patch(staff, ticket.pk, {"status": "inProgress"})["status"] == "inProgress"
        resolved = patch(staff, ticket.pk, {"status": "resolved", "statusChangeReason": "Trunk restarted"})
        assert resolved["status"] == "resolved" and "resolutionDate" in resolved
        assert patch(staff, ticket.pk, {"status": "closed"})["status"] == "closed"
        conflict = patch(staff, ticket.pk, {"status": "inProgress"}, status=409)
        assert "closed" in conflict["message"]

    def test_the_report_itself_stays_as_made(self, tmf_a, contract_a, customer_a_user):
        ticket = fault(contract_a, customer_a_user)
        assert "description" in patch(tmf_a, ticket.pk, {"description": "Something else"}, status=400)["message"]
        assert "severity" in patch(tmf_a, ticket.pk, {"severity": "critical"}, status=400)["message"]
        assert patch(tmf_a, ticket.pk, {"severity": "minor"})["severity"] == "minor"  # unchanged: accepted

    def test_another_customers_ticket_cannot_be_patched_or_deleted(self, tmf_a, contract_b, customer_b):
        from tests.factories import CustomerUserFactory

        theirs = fault(contract_b, CustomerUserFactory(customer=customer_b), a_number="070-123 45 67")
        patch(tmf_a, theirs.pk, {"status": "cancelled"}, status=404)
        assert tmf_a.delete(f"{BASE}/troubleTicket/{theirs.pk}").status_code == 404

    def test_a_ticket_is_never_deleted(self, tmf_a, contract_a, customer_a_user):
        ticket = fault(contract_a, customer_a_user)
        response = tmf_a.delete(f"{BASE}/troubleTicket/{ticket.pk}")
        assert response.status_code == 405 and "cancels" in response.json()["message"]
        validate(response.json(), "Error")

    def test_json_patch_is_refused_as_an_unsupported_media_type(self, tmf_a, contract_a, customer_a_user):
        ticket = fault(contract_a, customer_a_user)
        response = tmf_a.patch(
            f"{BASE}/troubleTicket/{ticket.pk}",
            '[{"op": "replace", "path": "/status"}]',
            content_type="application/json-patch+json",
        )
        assert response.status_code == 415
        validate(response.json(), "Error")


LINK = {
    "@type": "AttachmentRef",
    "name": "sip-trace-0930.pcap",
    "description": "Trace of the failed calls",
    "url": "https://files.operator.example/share/sip-trace-0930.pcap?token=abc",
}


def patch_raw(client, ticket_id, body):
    """A PATCH the document may not describe (a wrong type somewhere): sent as it is."""
    return client.patch(
        f"{BASE}/troubleTicket/{ticket_id}", json.dumps(body), content_type="application/merge-patch+json"
    )


class TestAttachmentReferences:
    """Files kept elsewhere, added by their address (README, "TMF621"): never fetched, listed
    beside the uploaded files, nothing ever removed."""

    def test_a_patch_adds_a_link_beside_the_uploaded_files_and_get_shows_it(
        self, tmf_a, contract_a, customer_a_user, settings, tmp_path
    ):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from tickets import attachments

        settings.MEDIA_ROOT = tmp_path
        ticket = fault(contract_a, customer_a_user)
        checked = attachments.upload_problems([SimpleUploadedFile("trace.log", b"INVITE sip:1@pbx SIP/2.0\r\n")])[0]
        uploaded = attachments.store(ticket, checked, actor=customer_a_user)[0]
        _, before = get_json(tmf_a, f"{BASE}/troubleTicket/{ticket.pk}")

        after = patch(tmf_a, ticket.pk, {"attachment": [*before["attachment"], LINK]})

        _, body = get_json(tmf_a, f"{BASE}/troubleTicket/{ticket.pk}")
        assert body == after
        file, link = body["attachment"]
        assert file == before["attachment"][0] and file["id"] == str(uploaded.pk)  # as it was
        reference = AttachmentReference.objects.get()
        assert link == {
            "@type": "AttachmentRef",
            "@referredType": "Attachment",
            "id": f"ref-{reference.pk}",
            "name": "sip-trace-0930.pcap",
            "description": "Trace of the failed calls",
            "url": LINK["url"],
        }
        assert reference.added_by == customer_a_user and reference.ticket == ticket
        entry = TicketEvent.objects.get(ticket=ticket, field="attachment")
        assert entry.actor == customer_a_user and LINK["url"] in entry.new_value

    def test_the_same_list_sent_again_adds_nothing_and_nothing_is_removed(self, tmf_a, contract_a, customer_a_user):
        ticket = fault(contract_a, customer_a_user)
        first = patch(tmf_a, ticket.pk, {"attachment": [LINK]})
        assert patch(tmf_a, ticket.pk, {"attachment": [LINK]}) == first  # a retry of the same PATCH
        assert patch(tmf_a, ticket.pk, {"attachment": first["attachment"]}) == first
        second = {**LINK, "name": "second.pcap", "url": "https://files.operator.example/2"}
        both = patch(tmf_a, ticket.pk, {"attachment": [second]})  # the first is not named: it stays
        assert [item["name"] for item in both["attachment"]] == ["sip-trace-0930.pcap", "second.pcap"]
        assert patch(tmf_a, ticket.pk, {"attachment": []})["attachment"] == both["attachment"]
        assert AttachmentReference.objects.count() == 2

    def test_an_attachment_value_with_url_and_media_type_is_kept_as_a_link(self, tmf_a, contract_a, customer_a_user):
        ticket = fault(contract_a, customer_a_user)
        value = {
            "@type": "Attachment",
            "name": "Switchboard export",
            "url": "HTTPS://Files.Example:8443/export.csv",
            "mimeType": "text/csv",
            "attachmentType": "log",
            "size": {"amount": 1.5, "units": "kB"},
        }
        [link] = patch(tmf_a, ticket.pk, {"attachment": [value]})["attachment"]
        assert link["url"] == "https://Files.Example:8443/export.csv" and "description" not in link
        reference = AttachmentReference.objects.get()
        assert (reference.mime_type, reference.size, reference.host) == ("text/csv", 1500, "files.example:8443")

    @pytest.mark.parametrize(
        ("item", "problem"),
        [
            ({"url": "ftp://files.example/trace.pcap"}, "url: Only http and https"),
            ({"url": "javascript:alert(1)"}, "url: Only http and https"),
            ({"url": "/share/trace.pcap"}, "url: The address must start with http:// or https://"),
            ({"url": "https:///trace.pcap"}, "url: The address names no host"),
            ({"url": "https://user:secret@files.example/x"}, "url: The address carries a user name or password"),
            ({"url": "https://bank.example@evil.example/x"}, "url: The address carries a user name or password"),
            ({"url": "https://files.example/a b.pcap"}, "url: The address contains a space"),
            ({"url": "https://files.example/\u202etxt.exe"}, "invisible character"),
            ({"url": "https://files.example\\@evil.example/"}, "url: The address contains a backslash"),
            ({"url": "https://files.example/" + "a" * 2000}, "url: The address is 2022 characters long; at most 2000"),
            ({"url": "https://files.example:99999/"}, "url: The address cannot be read"),
            ({"url": "https://files.example/x", "name": "  "}, "name: Give the file a name"),
            ({"url": "https://files.example/x", "name": "gpj\u202e.exe"}, "name: The name contains a control"),
            ({"url": "https://files.example/x", "mimeType": "pdf"}, "mimeType: Give the media type"),
            ({"url": None}, "give the url of a file kept elsewhere, or the id"),
            ({"id": "ref-999"}, "the ticket has no attachment with the id ref-999"),
            ({"id": "12345"}, "the ticket has no attachment with the id 12345"),
        ],
    )
    def test_a_malformed_item_is_refused_naming_it_and_nothing_of_the_patch_is_applied(
        self, tmf_a, contract_a, customer_a_user, item, problem
    ):
        ticket = fault(contract_a, customer_a_user)
        item = {"@type": "AttachmentRef", "name": "trace.pcap", **item}
        if "url" in item and item["url"] is None:
            del item["url"]
        body = {"note": [{"@type": "Note", "text": "See the trace"}], "attachment": [LINK, item]}
        refused = patch(tmf_a, ticket.pk, body, status=400)
        assert refused["message"].startswith("attachment[1]") and problem in refused["message"], refused
        assert not AttachmentReference.objects.exists() and not ticket.messages.exists()
        assert not TicketEvent.objects.filter(field="attachment").exists()

    @pytest.mark.parametrize(
        ("item", "problem"),
        [
            ({"content": "aGVsbG8="}, "files are not sent in content"),
            ({"@type": "Note"}, "@type is AttachmentRef or Attachment"),
            ({"size": {"amount": -1}}, "size: give a Quantity in bytes"),
            ({"size": {"amount": 1, "units": "parsecs"}}, "size: give a Quantity in bytes"),
            ({"size": {"amount": 1e18, "units": "GiB"}}, "size: give a Quantity in bytes"),
            ({"colour": "red"}, "does not take: colour"),
            ({"name": 7}, "name: Give the file a name"),
        ],
    )
    def test_what_the_document_allows_but_a_link_cannot_be_is_refused_too(
        self, tmf_a, contract_a, customer_a_user, item, problem
    ):
        ticket = fault(contract_a, customer_a_user)
        response = patch_raw(tmf_a, ticket.pk, {"attachment": [{**LINK, **item}]})
        assert response.status_code == 400, response.content
        validate(response.json(), "Error")
        assert "attachment[0]" in response.json()["message"] and problem in response.json()["message"]
        assert not AttachmentReference.objects.exists()

    def test_a_list_that_is_no_list_is_refused(self, tmf_a, contract_a, customer_a_user):
        ticket = fault(contract_a, customer_a_user)
        for body in ({"attachment": LINK}, {"attachment": ["https://files.example/x"]}):
            response = patch_raw(tmf_a, ticket.pk, body)
            assert response.status_code == 400 and "attachment" in response.json()["message"]
            validate(response.json(), "Error")

    def test_another_customers_ticket_answers_404_as_a_missing_one_and_gets_nothing(
        self, tmf_a, contract_b, customer_b
    ):
        from tests.factories import CustomerUserFactory

        theirs = fault(contract_b, CustomerUserFactory(customer=customer_b), a_number="070-123 45 67")
        foreign = patch(tmf_a, theirs.pk, {"attachment": [LINK]}, status=404)
        missing = patch(tmf_a, theirs.pk + 1000, {"attachment": [LINK]}, status=404)
        assert foreign["message"].replace(str(theirs.pk), "N") == missing["message"].replace(str(theirs.pk + 1000), "N")
        assert not AttachmentReference.objects.exists()

    def test_staff_add_links_to_any_ticket_but_no_ticket_takes_one_once_closed(
        self, staff_user, contract_b, customer_b
    ):
        from tests.factories import CustomerUserFactory

        ticket = fault(contract_b, CustomerUserFactory(customer=customer_b), a_number="070-123 45 67")
        staff = client_for(staff_user)
        [link] = patch(staff, ticket.pk, {"attachment": [LINK]})["attachment"]
        assert AttachmentReference.objects.get().added_by == staff_user
        services.ticket_close(ticket=ticket, actor=staff_user)
        late = {**LINK, "url": "https://files.operator.example/late"}
        assert "closed" in patch(staff, ticket.pk, {"attachment": [link, late]}, status=409)["message"]
        assert patch(staff, ticket.pk, {"attachment": [link]})["attachment"] == [link]  # naming it adds nothing
        assert AttachmentReference.objects.count() == 1

    def test_an_internal_notes_file_cannot_be_named_by_a_customer(
        self, tmf_a, staff_user, contract_a, customer_a_user, settings, tmp_path
    ):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from tickets import attachments

        settings.MEDIA_ROOT = tmp_path
        ticket = fault(contract_a, customer_a_user)
        _, note = services.ticket_reply(ticket=ticket, actor=staff_user, message="Staff only", internal=True)
        checked = attachments.upload_problems([SimpleUploadedFile("internal.log", b"secret\n")])[0]
        hidden = attachments.store(ticket, checked, actor=staff_user, message=note)[0]
        refused = patch(tmf_a, ticket.pk, {"attachment": [{"@type": "AttachmentRef", "id": str(hidden.pk)}]}, 400)
        assert refused["message"] == f"attachment[0]: the ticket has no attachment with the id {hidden.pk}."

    def test_a_new_ticket_comes_with_its_links(self, tmf_a, contract_a):
        value = {
            "@type": "Attachment",
            "name": "Call log",
            "url": "https://files.operator.example/call-log.csv",
            "mimeType": "text/csv",
            "attachmentType": "log",
            "size": {"amount": 12, "units": "KiB"},
        }
        response = tmf_a.post(f"{BASE}/troubleTicket", new_fault(contract_a, attachment=[value]), format="json")
        assert response.status_code == 201, response.content
        validate(response.json(), "TroubleTicket_RES")
        [link] = response.json()["attachment"]
        assert (link["@type"], link["name"], link["url"]) == ("AttachmentRef", "Call log", value["url"])
        assert AttachmentReference.objects.get().size == 12 * 1024

    def test_a_new_ticket_with_a_bad_link_is_not_opened(self, tmf_a, contract_a):
        bad = {
            "@type": "Attachment",
            "name": "x",
            "url": "file:///etc/passwd",
            "mimeType": "text/plain",
            "attachmentType": "log",
        }
        response = tmf_a.post(f"{BASE}/troubleTicket", new_fault(contract_a, attachment=[bad]), format="json")
        assert response.status_code == 400 and "attachment[0] url: Only http and https" in response.json()["message"]
        validate(response.json(), "Error")
        named = {"@type": "AttachmentRef", "id": "ref-1"}
        response = tmf_a.post(f"{BASE}/troubleTicket", new_fault(contract_a, attachment=[named]), format="json")
        assert response.status_code == 400 and "no attachment with the id ref-1" in response.json()["message"]
        assert not Ticket.objects.exists()


class Receiver:
    """A listener an OSS would run: a real HTTP server on loopback that checks each event's
    signature with the secret the hub gave and keeps what it was sent."""

    def __init__(self, answer: int = 204, tls: ssl.SSLContext | None = None) -> None:
        self.answer, self.secret, self.received = answer, None, []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.received.append((dict(self.headers), body))
                self.send_response(owner.answer)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.callback = f"http://127.0.0.1:{self.server.server_port}/listener"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        """The events received, each checked: signed with the secret, carrying its id, valid."""
        checked = []
        for headers, body in self.received:
            expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["X-Signature"], expected)
            event = json.loads(body)
            assert headers["X-Event-Id"] == event["eventId"]
            validate(event, event["@type"])
            checked.append(event)
        return checked

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    opened = []

    def open_one(answer: int = 204, tls: ssl.SSLContext | None = None) -> Receiver:
        opened.append(Receiver(answer, tls))
        return opened[-1]

    yield open_one
    for receiver in opened:
        receiver.close()


REBINDING = "rebind.example"
PUBLIC = "93.184.215.14"  # a public address (example.com's); Rebinding answers in its place, no packet goes to it
SECOND = "93.184.215.15"  # another of the name's public addresses, played the same way


class Rebinding:
    """The resolver and the connections of one test. The name REBINDING answers `answers` in
    turn (the last again and again; a list is several addresses in one answer); a connection to
    PUBLIC reaches `public_server` (a Receiver on loopback), one to an address in `played` the
    loopback port given there, any other public one is refused: nothing ever leaves this machine."""

    def __init__(self, monkeypatch) -> None:
        import urllib3.util.connection

        self.answers: list[str] = []
        self.public_server: Receiver | None = None
        self.played: dict[str, int] = {}
        self.looked_up, self.connected = 0, []
        real_lookup, real_connect = socket.getaddrinfo, urllib3.util.connection.create_connection

        def lookup(host, port, *args, **kwargs):
            if host != REBINDING:
                return real_lookup(host, port, *args, **kwargs)
            self.looked_up += 1
            answer = self.answers[min(self.looked_up, len(self.answers)) - 1]
            found = answer if isinstance(answer, list) else [answer]
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (each, port)) for each in found]

        def connect(address, *args, **kwargs):
            host, port = address
            self.connected.append(host)
            if host == PUBLIC and self.public_server is not None:
                return real_connect(("127.0.0.1", self.public_server.server.server_port), *args, **kwargs)
            if host in self.played:
                return real_connect(("127.0.0.1", self.played[host]), *args, **kwargs)
            if host in (PUBLIC, SECOND):
                raise ConnectionRefusedError(f"nothing of this test listens at {host}")
            return real_connect(address, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", lookup)
        monkeypatch.setattr(urllib3.util.connection, "create_connection", connect)


@pytest.fixture
def rebinding(monkeypatch):
    return Rebinding(monkeypatch)


def _tls(folder, name: str, asked: list) -> ssl.SSLContext:
    """A server context with a self-signed certificate for `name`, added to folder/ca.pem (the
    client's trust store); `asked` collects the server names clients send (SNI)."""
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}"]
        + ["-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )
    with open(folder / "ca.pem", "a") as bundle:
        bundle.write(cert.read_text())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _socket, server_name, _context: asked.append(server_name)
    return context


@pytest.fixture
def workers_at_once():
    """Tasks run where they are queued (after the commit), as a worker would run them."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def subscribe(client, receiver: Receiver, query: str = "") -> dict:
    body = {"@type": "Hub", "callback": receiver.callback, **({"query": query} if query else {})}
    validate(body, "Hub_FVO")
    response = client.post(f"{BASE}/hub", body, format="json")
    assert response.status_code == 201, response.content
    validate(response.json(), "Hub")
    receiver.secret = response.json()["secret"]
    return response.json()


@pytest.mark.usefixtures("workers_at_once")
class TestEvents:
    def test_an_oss_opens_a_fault_and_follows_it_by_events_to_resolution(
        self, tmf_a, staff_user, contract_a, contract_b, customer_b, receivers, django_capture_on_commit_callbacks
    ):
        from tests.factories import CustomerUserFactory

        oss, other = receivers(), receivers()
        subscribe(tmf_a, oss)
        tmf_b = client_for(CustomerUserFactory(customer=customer_b))
        subscribe(tmf_b, other)
        staff = client_for(staff_user)

        with django_capture_on_commit_callbacks(execute=True):
            created = tmf_a.post(f"{BASE}/troubleTicket", new_fault(contract_a), format="json").json()
        ticket_id = created["id"]
        [create] = oss.events()
        assert create["@type"] == "TroubleTicketCreateEvent"
        assert create["event"]["troubleTicket"]["id"] == ticket_id

        with django_capture_on_commit_callbacks(execute=True):
            patch(staff, ticket_id, {"status": "pending", "note": [{"@type": "Note", "text": "Which extension?"}]})
        asked = oss.events()[1:]
        assert [event["@type"] for event in asked] == [
            "TroubleTicketStatusChangeEvent",
            "TroubleTicketInformationRequiredEvent",
        ]
        assert asked[1]["event"]["informationRequired"]["value"] == "Which extension?"
        assert asked[0]["event"]["troubleTicket"]["status"] == "pending"

        with django_capture_on_commit_callbacks(execute=True):
            answered = tmf_a.get(f"{BASE}/troubleTicket/{ticket_id}").json()
            patch(tmf_a, ticket_id, {"note": [*answered["note"], {"@type": "Note", "text": "Extension 204"}]})
        [resumed] = oss.events()[3:]
        assert (resumed["@type"], resumed["event"]["troubleTicket"]["status"]) == (
            "TroubleTicketStatusChangeEvent",
            "inProgress",
        )

        ticket = Ticket.objects.get(pk=ticket_id)
        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_classify(ticket=ticket, actor=staff_user, classification=Classification.FAULT)
        with django_capture_on_commit_callbacks(execute=True):
            patch(staff, ticket_id, {"status": "resolved", "note": [{"@type": "Note", "text": "Trunk restarted"}]})
        types = [event["@type"] for event in oss.events()[4:]]
        assert types == [
            "TroubleTicketAttributeValueChangeEvent",
            "TroubleTicketStatusChangeEvent",
            "TroubleTicketResolvedEvent",
        ]
        assert len({event["eventId"] for event in oss.events()}) == len(oss.events())

        # Customer B sees nothing of it: not the ticket, not one event.
        assert tmf_b.get(f"{BASE}/troubleTicket/{ticket_id}").status_code == 404
        assert other.received == []

    def test_a_staff_listener_hears_internal_notes_a_customers_never_does(
        self, tmf_a, staff_user, contract_a, customer_a_user, receivers, django_capture_on_commit_callbacks
    ):
        customer, desk = receivers(), receivers()
        subscribe(tmf_a, customer)
        subscribe(client_for(staff_user), desk)
        with django_capture_on_commit_callbacks(execute=True):
            ticket = fault(contract_a, customer_a_user)
        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_reply(ticket=ticket, actor=staff_user, message="Trunk 3 again", internal=True)
        assert len(customer.received) == 1  # the create event only
        [_, note] = desk.events()
        assert note["@type"] == "TroubleTicketAttributeValueChangeEvent"
        assert note["event"]["troubleTicket"]["note"][-1]["text"] == "Trunk 3 again"

    def test_listeners_registered_after_reports_hear_the_next_change_as_their_kind_allows(
        self, staff_user, contract_a, customer_a, customer_b, customer_a_user
    ):
        """Each change asks afresh whether anyone may hear it (a desk usually has nobody): whoever
        registers hears the very next one, if it is theirs to hear."""
        from tests.factories import CustomerUserFactory

        def listener(owner, customer=None, **fields):
            return Listener.objects.create(owner=owner, customer=customer, callback="https://oss.example/", **fields)

        ticket = fault(contract_a, customer_a_user)
        listener(CustomerUserFactory(customer=customer_b), customer_b)
        listener(staff_user, disabled_at=timezone.now())
        services.ticket_reply(ticket=ticket, actor=staff_user, message="On it")
        assert not Event.objects.exists()  # another customer's, and a disabled one

        customers = listener(customer_a_user, customer_a)
        services.ticket_reply(ticket=ticket, actor=staff_user, message="Trunk 3 again", internal=True)
        assert not Event.objects.exists()  # an internal note is for staff's listeners only
        services.ticket_reply(ticket=ticket, actor=staff_user, message="Is it better now?")
        assert list(Event.objects.values_list("listener", flat=True)) == [customers.pk]

        desk = listener(staff_user)
        services.ticket_reply(ticket=ticket, actor=staff_user, message="Trunk 3 restarted", internal=True)
        assert list(Event.objects.filter(listener=desk).values_list("event_type", flat=True)) == [
            "TroubleTicketAttributeValueChangeEvent"
        ]

    def test_a_link_added_is_told_as_an_attribute_change_with_the_link_in_it(
        self, tmf_a, staff_user, contract_a, customer_a_user, receivers, django_capture_on_commit_callbacks
    ):
        customer, desk = receivers(), receivers()
        subscribe(tmf_a, customer)
        subscribe(client_for(staff_user), desk)
        with django_capture_on_commit_callbacks(execute=True):
            ticket = fault(contract_a, customer_a_user)
        with django_capture_on_commit_callbacks(execute=True):
            patch(tmf_a, ticket.pk, {"attachment": [LINK, {**LINK, "name": "second", "url": "https://f.example/2"}]})
        for receiver in (customer, desk):
            [_, changed] = receiver.events()  # one event for the one change (validated in events())
            assert changed["@type"] == "TroubleTicketAttributeValueChangeEvent"
            links = changed["event"]["troubleTicket"]["attachment"]
            assert [link["url"] for link in links] == [LINK["url"], "https://f.example/2"]

    def test_a_query_chooses_the_events_and_tickets(
        self, tmf_a, staff_user, contract_a, customer_a_user, receivers, django_capture_on_commit_callbacks
    ):
        receiver = receivers()
        subscribe(tmf_a, receiver, query="eventType=TroubleTicketCreateEvent&event.troubleTicket.severity=critical")
        with django_capture_on_commit_callbacks(execute=True):
            fault(contract_a, customer_a_user)
            urgent = fault(contract_a, customer_a_user, urgent=True)
        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_start(ticket=urgent, actor=staff_user)
        assert [event["event"]["troubleTicket"]["id"] for event in receiver.events()] == [str(urgent.pk)]

    def test_the_close_after_an_unanswered_question_is_told_as_a_status_change(
        self, tmf_a, staff_user, contract_a, customer_a_user, receivers, django_capture_on_commit_callbacks
    ):
        """The sweep closes tickets in batches, its history written at once: listeners hear it too."""
        receiver = receivers()
        subscribe(tmf_a, receiver)
        with django_capture_on_commit_callbacks(execute=True):
            ticket = fault(contract_a, customer_a_user)
        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_request_info(ticket=ticket, actor=staff_user, message="Which extension?")
        with django_capture_on_commit_callbacks(execute=True):
            services.close_unanswered(now=timezone.now() + datetime.timedelta(days=10))
        closed = receiver.events()[-1]
        assert closed["@type"] == "TroubleTicketStatusChangeEvent"
        assert closed["event"]["troubleTicket"]["status"] == "closed"
        assert [e["@type"] for e in receiver.events()].count("TroubleTicketStatusChangeEvent") == 2

    def test_the_sweep_tells_each_listener_what_the_changes_told_one_by_one_would(
        self, staff_user, contract_a, customer_a, customer_b, customer_a_user, dstny
    ):
        """The sweep's batch is told with a few queries, yet as `record` tells each change: to
        the ticket's customer's and staff's listeners, each as its query asks, and no attribute
        change where an event for the ticket still waits to be built."""
        from tests.factories import ContractFactory, CustomerUserFactory
        from tmf621 import events

        def listener(owner, customer=None, **fields):
            return Listener.objects.create(owner=owner, customer=customer, callback="https://oss.example/", **fields)

        listener(customer_a_user, customer_a)
        listener(customer_a_user, customer_a, query="eventType=TroubleTicketAttributeValueChangeEvent")
        listener(CustomerUserFactory(customer=customer_b), customer_b)
        listener(staff_user)
        listener(staff_user, disabled_at=timezone.now())
        tickets = [
            fault(contract_a, customer_a_user),
            fault(contract_a, customer_a_user),
            fault(ContractFactory(customer=customer_b, terms=dstny), staff_user),
        ]
        for ticket in tickets:
            services.ticket_request_info(ticket=ticket, actor=staff_user, message="Which extension?")
        Event.objects.exclude(ticket=tickets[1]).update(payload={})  # the second's events still wait

        before = set(Event.objects.values_list("pk", flat=True))

        def told() -> list[tuple]:
            return sorted(Event.objects.exclude(pk__in=before).values_list("listener", "ticket", "event_type"))

        assert services.close_unanswered(now=timezone.now() + datetime.timedelta(days=10)) == 3
        by_the_sweep = told()
        Event.objects.exclude(pk__in=before).delete()
        for change in TicketEvent.objects.filter(note="no-answer").order_by("pk"):
            events.record(change.ticket, events._types_for(change))
        assert by_the_sweep == told()
        assert "TroubleTicketAttributeValueChangeEvent" in [event_type for *_, event_type in by_the_sweep]


class TestDelivery:
    def test_a_failed_delivery_is_retried_later_and_a_listener_failing_on_is_disabled(
        self, tmf_a, contract_a, customer_a_user, receivers, settings
    ):
        settings.TMF621_LISTENER_MAX_FAILURES = 2
        receiver = receivers(answer=500)
        subscribe(tmf_a, receiver)
        ticket = fault(contract_a, customer_a_user)
        [event] = Event.objects.filter(ticket=ticket)
        now = timezone.now()

        assert delivery.deliver(event.pk, now=now) is False
        event.refresh_from_db()
        assert (event.attempts, event.last_error) == (1, "HTTP 500")
        assert event.next_attempt_at == now + datetime.timedelta(seconds=30)
        assert delivery.deliver_due(now=now + datetime.timedelta(seconds=10)) == 0  # not yet due
        assert len(receiver.received) == 1

        later = now + datetime.timedelta(seconds=31)
        assert delivery.deliver_due(now=later) == 0
        event.refresh_from_db()
        assert event.next_attempt_at == later + datetime.timedelta(minutes=1)  # twice as long
        listener = Listener.objects.get()
        assert listener.failures == 2 and listener.disabled_at == later

        receiver.answer = 204
        assert delivery.deliver_due(now=later + datetime.timedelta(hours=2)) == 0  # disabled: waits
        Listener.objects.update(disabled_at=None, failures=0)
        assert delivery.deliver_due(now=later + datetime.timedelta(hours=2)) == 1
        assert delivery.deliver(event.pk, now=later + datetime.timedelta(hours=3)) is False  # once only
        assert len(receiver.received) == 3

    def test_staff_find_the_disabled_listeners_in_the_admin_and_resume_them(
        self, client, django_user_model, customer_a, customer_a_user
    ):
        Listener.objects.create(
            owner=customer_a_user, customer=customer_a, callback="https://up.example/tmf", secret="x"
        )
        Listener.objects.create(
            owner=customer_a_user,
            customer=customer_a,
            callback="https://down.example/tmf",
            secret="x",
            failures=10,
            last_error="HTTP 503",
            disabled_at=timezone.now(),
        )
        client.force_login(django_user_model.objects.create_superuser("root", "root@desk.example", "x-root-pass-42"))
        page = client.get("/admin/tmf621/listener/?disabled_at__isempty=0").content.decode()
        assert "down.example" in page and "HTTP 503" in page and "up.example" not in page
        disabled = Listener.objects.get(callback__contains="down")
        client.post("/admin/tmf621/listener/", {"action": "enable", "_selected_action": [disabled.pk]})
        disabled.refresh_from_db()
        assert (disabled.disabled_at, disabled.failures) == (None, 0)

    def test_delivered_events_are_forgotten_after_a_month(self, tmf_a, contract_a, customer_a_user, receivers):
        subscribe(tmf_a, receivers())
        fault(contract_a, customer_a_user)
        delivered_at = timezone.now()
        assert delivery.deliver(Event.objects.get().pk, now=delivered_at)
        assert delivery.forget_delivered(now=delivered_at + datetime.timedelta(days=29)) == 0
        assert delivery.forget_delivered(now=delivered_at + datetime.timedelta(days=31)) == 1
        assert not Event.objects.exists()

    @pytest.mark.parametrize("callback", ["ftp://127.0.0.1/x", "javascript:alert(1)", "http://", "/relative"])
    def test_a_callback_must_be_an_http_url(self, tmf_a, callback):
        response = tmf_a.post(f"{BASE}/hub", {"@type": "Hub", "callback": callback}, format="json")
        assert response.status_code == 400
        validate(response.json(), "Error")
        assert "http or https" in response.json()["message"]

    @pytest.mark.parametrize(
        "callback",
        [
            "http://127.0.0.1:8000/events",
            "https://10.0.0.7/x",
            "http://[::1]/x",
            "http://169.254.169.254/latest/meta-data",
        ],
    )
    def test_a_callback_into_our_own_network_is_refused(self, tmf_a, settings, callback):
        settings.TMF621_PRIVATE_CALLBACKS = False
        response = tmf_a.post(f"{BASE}/hub", {"@type": "Hub", "callback": callback}, format="json")
        assert response.status_code == 400
        assert "public" in response.json()["message"]

    @pytest.mark.parametrize(
        ("address", "is_public"),
        [
            ("93.184.215.14", True),
            ("2606:4700::1111", True),
            ("64:ff9b::5db8:d70e", True),  # NAT64 to a public IPv4 address
            ("2002:5db8:d70e::1", True),  # 6to4 of a public one
            ("10.0.0.1", False),
            ("::1", False),
            ("::ffff:10.0.0.1", False),  # IPv4-mapped
            ("64:ff9b::a00:1", False),  # NAT64 to 10.0.0.1
            ("64:ff9b:1::a9fe:a9fe", False),  # local-use NAT64 to 169.254.169.254
            ("::127.0.0.1", False),  # IPv4-compatible
            ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
            ("fec0::1", False),  # site-local
        ],
    )
    def test_an_ipv6_address_is_public_only_with_the_ipv4_address_it_carries(self, address, is_public):
        from tmf621 import hub

        assert hub.public(address) is is_public

    def test_a_listener_whose_host_turned_private_is_not_posted_to(
        self, tmf_a, contract_a, customer_a_user, receivers, settings
    ):
        receiver = receivers()
        subscribe(tmf_a, receiver)
        fault(contract_a, customer_a_user)
        settings.TMF621_PRIVATE_CALLBACKS = False
        assert delivery.deliver(Event.objects.get().pk) is False
        assert receiver.received == [] and "not public" in Event.objects.get().last_error

    def test_a_name_that_turns_to_loopback_after_the_check_reaches_nothing_of_ours(
        self, customer_a, customer_a_user, contract_a, receivers, settings, rebinding
    ):
        """DNS rebinding: the name answers a public address to the check and 127.0.0.1 to the
        next look-up. The POST goes to the address checked, never to a second answer."""
        settings.TMF621_PRIVATE_CALLBACKS = False
        receiver = receivers()
        callback = f"http://{REBINDING}:{receiver.server.server_port}/listener"
        Listener.objects.create(owner=customer_a_user, customer=customer_a, callback=callback, secret="s" * 64)
        fault(contract_a, customer_a_user)
        rebinding.answers = [PUBLIC, "127.0.0.1"]
        rebinding.public_server = None  # nothing answers at the public address here

        assert delivery.deliver(Event.objects.get().pk) is False
        assert receiver.received == []
        assert rebinding.looked_up == 1 and rebinding.connected == [PUBLIC]
        assert "ConnectionError" in Event.objects.get().last_error

    def test_the_post_goes_to_the_checked_address_with_the_host_name_kept(
        self, customer_a, customer_a_user, contract_a, receivers, settings, rebinding
    ):
        settings.TMF621_PRIVATE_CALLBACKS = False
        receiver = receivers()
        receiver.secret = "s" * 64
        port = receiver.server.server_port
        callback = f"http://{REBINDING}:{port}/listener?x=1"
        Listener.objects.create(owner=customer_a_user, customer=customer_a, callback=callback, secret=receiver.secret)
        fault(contract_a, customer_a_user)
        rebinding.answers = [PUBLIC, "127.0.0.1"]
        rebinding.public_server = receiver  # the public address's server, played on loopback

        assert delivery.deliver(Event.objects.get().pk) is True
        [(headers, _body)] = receiver.received
        assert headers["Host"] == f"{REBINDING}:{port}"
        assert receiver.events()[0]["@type"] == "TroubleTicketCreateEvent"
        assert rebinding.looked_up == 1 and rebinding.connected == [PUBLIC]

    def test_an_address_that_takes_no_connection_hands_the_post_to_the_names_next_one(
        self, customer_a, customer_a_user, contract_a, receivers, settings, rebinding
    ):
        settings.TMF621_PRIVATE_CALLBACKS = False
        receiver = receivers()
        callback = f"http://{REBINDING}:{receiver.server.server_port}/listener"
        Listener.objects.create(owner=customer_a_user, customer=customer_a, callback=callback, secret="s" * 64)
        fault(contract_a, customer_a_user)
        rebinding.answers = [[PUBLIC, SECOND]]
        rebinding.played = {SECOND: receiver.server.server_port}  # PUBLIC refuses

        assert delivery.deliver(Event.objects.get().pk) is True
        assert rebinding.connected == [PUBLIC, SECOND] and len(receiver.received) == 1

    def test_a_connection_that_breaks_after_the_post_was_sent_is_not_sent_to_the_next_address(
        self, customer_a, customer_a_user, contract_a, receivers, settings, rebinding
    ):
        """The first address may have received the event: the retry sends it again later, not
        a second address at once."""
        settings.TMF621_PRIVATE_CALLBACKS = False
        receiver = receivers()
        hangs_up = socket.create_server(("127.0.0.1", 0))
        read = []

        def take_and_hang_up() -> None:
            connection, _address = hangs_up.accept()
            with connection:
                read.append(connection.recv(65536))

        threading.Thread(target=take_and_hang_up, daemon=True).start()
        callback = f"http://{REBINDING}:{receiver.server.server_port}/listener"
        Listener.objects.create(owner=customer_a_user, customer=customer_a, callback=callback, secret="s" * 64)
        fault(contract_a, customer_a_user)
        rebinding.answers = [[PUBLIC, SECOND]]
        rebinding.played = {PUBLIC: hangs_up.getsockname()[1], SECOND: receiver.server.server_port}
        try:
            assert delivery.deliver(Event.objects.get().pk) is False
        finally:
            hangs_up.close()
        assert read and read[0].startswith(b"POST /listener")
        assert rebinding.connected == [PUBLIC] and receiver.received == []
        assert "ConnectionError" in Event.objects.get().last_error

    @pytest.mark.skipif(shutil.which("openssl") is None, reason="makes its certificates with openssl")
    def test_https_names_the_host_and_checks_its_certificate_while_connecting_to_the_checked_address(
        self, customer_a, customer_a_user, contract_a, receivers, settings, rebinding, tmp_path, monkeypatch
    ):
        settings.TMF621_PRIVATE_CALLBACKS = False
        asked = []
        good = receivers(tls=_tls(tmp_path, REBINDING, asked))
        wrong = receivers(tls=_tls(tmp_path, "other.example", asked))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))
        for receiver in (good, wrong):
            callback = f"https://{REBINDING}:{receiver.server.server_port}/listener"
            Listener.objects.create(owner=customer_a_user, customer=customer_a, callback=callback, secret="s" * 64)
        fault(contract_a, customer_a_user)
        events = {event.listener.callback: event for event in Event.objects.select_related("listener")}

        rebinding.answers, rebinding.public_server = [PUBLIC], good
        assert delivery.deliver(events[f"https://{REBINDING}:{good.server.server_port}/listener"].pk) is True
        assert len(good.received) == 1 and asked == [REBINDING]  # SNI: the host's name, not the address

        rebinding.answers, rebinding.public_server = [PUBLIC], wrong
        failed = events[f"https://{REBINDING}:{wrong.server.server_port}/listener"]
        assert delivery.deliver(failed.pk) is False
        failed.refresh_from_db()
        assert wrong.received == [] and "SSLError" in failed.last_error and REBINDING in failed.last_error

    @pytest.mark.parametrize(
        ("query", "named"),
        [
            ("eventType=TicketExploded", "eventType"),
            ("event.troubleTicket.status=", "event.troubleTicket.status"),
            ("event.troubleTicket.note=x", "event.troubleTicket.note"),
        ],
    )
    def test_an_unknown_query_is_refused(self, tmf_a, query, named):
        response = tmf_a.post(
            f"{BASE}/hub", {"@type": "Hub", "callback": "https://oss.example/events", "query": query}, format="json"
        )
        assert response.status_code == 400 and named in response.json()["message"]

    def test_only_its_owner_reads_or_removes_a_listener(self, tmf_a, customer_b, receivers):
        from tests.factories import CustomerUserFactory

        hub = subscribe(tmf_a, receivers())
        tmf_b = client_for(CustomerUserFactory(customer=customer_b))
        assert tmf_b.get(f"{BASE}/hub/{hub['id']}").status_code == 404
        assert tmf_b.delete(f"{BASE}/hub/{hub['id']}").status_code == 404
        shown = tmf_a.get(f"{BASE}/hub/{hub['id']}").json()
        validate(shown, "Hub")
        assert "secret" not in shown
        assert tmf_a.delete(f"{BASE}/hub/{hub['id']}").status_code == 204
        assert not Listener.objects.exists()


class TestAnswersOutsideTheViews:
    def test_a_nul_in_a_parameter_and_an_unknown_address_answer_in_the_error_shape(self, tmf_a):
        refused = tmf_a.get(f"{BASE}/troubleTicket?fields=status%00")
        assert refused.status_code == 400
        validate(refused.json(), "Error")
        missing = tmf_a.get(f"{BASE}/troubleTickets")
        assert missing.status_code == 404
        validate(missing.json(), "Error")

    def test_answers_signed_in_by_token_are_never_cached(self, customer_a_user):
        from rest_framework.authtoken.models import Token

        client = api_client()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=customer_a_user).key}")
        response = client.get(f"{BASE}/troubleTicket")
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]


def test_our_schema_documents_the_tmf621_operations_with_the_official_components(staff_api):
    schema = staff_api.get("/api/schema/?format=json").json()
    operations = {
        operation["operationId"]
        for path, item in schema["paths"].items()
        if path.startswith(BASE)
        for operation in item.values()
    }
    assert operations == {
        "listTroubleTicket",
        "createTroubleTicket",
        "retrieveTroubleTicket",
        "patchTroubleTicket",
        "deleteTroubleTicket",
        "createHub",
        "hubGet",
        "hubDelete",
    }
    create = schema["paths"][f"{BASE}/troubleTicket"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/TroubleTicket_FVO")
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/TroubleTicket_RES")
    assert {"TroubleTicket", "TroubleTicket_MVO", "Hub", "Hub_FVO", "TMF621Error", "Error"} <= set(
        schema["components"]["schemas"]
    )


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_create_event_to_a_real_listener(redis_broker, tmp_path, receivers, monkeypatch):  # noqa: F811 - the fixture
    """The path in production: the commit hands the event to Redis, a Celery worker POSTs it."""
    from tests.celery_helpers import broker_at
    from tests.factories import ContractFactory, CustomerFactory, CustomerUserFactory, ensure_seed_terms
    from tests.test_worker import wait_for, worker_process

    ensure_seed_terms()
    customer = CustomerFactory()
    reporter = CustomerUserFactory(customer=customer)
    receiver = receivers()
    receiver.secret = "s" * 64
    Listener.objects.create(owner=reporter, customer=customer, callback=receiver.callback, secret=receiver.secret)
    monkeypatch.setenv("TMF621_PRIVATE_CALLBACKS", "true")  # the worker's listener is on loopback
    with worker_process(redis_broker, tmp_path) as log, broker_at(redis_broker):
        ticket = fault(ContractFactory(customer=customer), reporter)
        wait_for(lambda: receiver.received, log)
        wait_for(lambda: "tmf621.tasks.deliver_event" in log.read_text() and Event.objects.get().delivered_at, log)
    [event] = receiver.events()
    assert event["@type"] == "TroubleTicketCreateEvent" and event["event"]["troubleTicket"]["id"] == str(ticket.pk)
