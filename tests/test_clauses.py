"""Each contract speaks its own clauses: what the desk cites comes from the ticket's, contract's or
terms' own table of clause references (contracts.clauses), T §… where Telia's specification says
it, nothing where it is silent, and never Dstny's D §… to a Telia customer."""

import ast
import datetime
import pathlib
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template import Context, Template

from contracts import clauses
from contracts.models import ServiceTerms
from sla import claims
from tests.factories import ContractFactory, CustomerUserFactory, fault_report
from tickets import notifications, services
from tickets.models import Notification, Ticket
from tickets.states import Status

pytestmark = pytest.mark.django_db
ROOT = pathlib.Path(__file__).resolve().parent.parent
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN)
DSTNY_CITE = re.compile(r"D §\d")
ANY_CITE = re.compile(r"\b[DT] §\d")


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def portal_client(client, contract):
    client.force_login(CustomerUserFactory(customer=contract.customer))
    return client


def report_data(contract, **overrides):
    return {
        "contract": contract.pk,
        "category": "fault",
        "a_number": "08-123 456 78" if contract.terms.slug == "telia-smart-connect" else "018 12345",
        "b_number": "040 123 4567",
        "fault_occurred_at": "2026-10-01T12:40",
        "description": "Samtal kopplas inte fram.",
        **overrides,
    }


def telia_report(contract, **overrides):
    return fault_report(contract, moment=NOW, **{"a_number": "08-123 456 78", **overrides})


def mail_body(ticket, kind, message="") -> str:
    return notifications.render(Notification(ticket=ticket, kind=kind, message=message))[1]


# The tables -----------------------------------------------------------------------------------


def test_each_seed_cites_its_own_document_and_telia_only_where_its_specification_speaks(dstny, telia):
    assert dstny.clauses["fault_details"] == "D §16.9"
    assert dstny.clauses["numbers_defined"] == "D §2"
    assert all(ref.startswith("D §") for ref in dstny.clauses.values())
    # T §3.1 Swedish numbers only, T §5.2.1 cases handled in service time, T §5.1 upgrade notice.
    assert telia.clauses == {"numbers_covered": "T §3.1", "service_start": "T §5.2.1", "planned_work_notice": "T §5.1"}


def test_a_terms_version_silent_on_a_matter_cites_nothing_not_even_parentheses(dstny):
    silent = ServiceTerms(clauses={})
    rendered = Template('{% load clauses %}[{% cite terms "fault_details" %}][{% clause terms "urgent" %}]').render(
        Context({"terms": silent})
    )
    assert rendered == "[][]"
    assert clauses.cited(dstny, "fault_details") == " (D §16.9)"
    assert clauses.cited_common([dstny, silent], "fault_details") == ""


def test_several_matters_cite_each_document_once():
    terms = ServiceTerms(clauses={"terms_change": "D §28", "notice_receipt": "D §25.2"})
    assert clauses.cited_together(terms, "terms_change", "notice_receipt") == " (D §28, §25.2)"
    assert clauses.each([terms, ServiceTerms(clauses={"terms_change": "T §7.1"})], "terms_change") == "D §28, T §7.1"


def test_a_new_terms_version_carries_the_table(dstny, contract_a):
    from contracts.services import terms_revise

    revised = terms_revise(terms=dstny, changes={"customer_reply_hours": 72})
    assert revised.version == dstny.version + 1
    assert revised.clauses == dstny.clauses


@pytest.mark.parametrize(
    "table, message",
    [
        ({"fault_detail": "D §16.9"}, "Unknown clause keys: fault_detail"),
        ({"fault_details": "section 16.9"}, "fault_details: write the reference as the contract prints it"),
        ({"fault_details": ""}, "fault_details: write the reference as the contract prints it"),
        ({"fault_details": 16.9}, "fault_details: write the reference as the contract prints it"),
        (["D §16.9"], "Give an object of clause references"),
    ],
)
def test_a_wrong_table_is_refused_by_name_and_nothing_changes(staff_api, telia, table, message):
    response = staff_api.patch(
        "/api/terms/telia-smart-connect/", {"clauses": table}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400, response.json()
    assert message in " ".join(response.json()["clauses"])
    telia.refresh_from_db()
    assert telia.clauses["numbers_covered"] == "T §3.1" and ServiceTerms.objects.filter(slug=telia.slug).count() == 1


def test_the_api_shows_and_takes_the_table(staff_api, telia):
    response = staff_api.get("/api/terms/telia-smart-connect/")
    assert response.json()["clauses"] == telia.clauses
    table = {**telia.clauses, "customer_change": "T §5.2.2"}
    response = staff_api.patch("/api/terms/telia-smart-connect/", {"clauses": table}, format="json")
    assert response.status_code == 200, response.json()
    assert ServiceTerms.objects.version_in_force("telia-smart-connect").clauses == table


# The report form, its errors and its "good to know" box ---------------------------------------


def test_a_telia_customers_report_form_cites_telia_and_never_dstny(client, contract_b):
    page = portal_client(client, contract_b).get("/portal/report/").content.decode()
    assert "Good to know" in page or "Bra att veta" in page
    assert not DSTNY_CITE.search(page)
    assert "(T §5.2.1)" in page  # reports are handled during the agreed service times
    assert "()" not in page


def test_a_dstny_customers_report_form_still_cites_dstny(client, contract_a):
    page = portal_client(client, contract_a).get("/portal/report/").content.decode()
    for ref in ("(D §16.9)", "(D §2)", "(D §16.8)"):
        assert ref in page


def test_a_customer_on_both_terms_is_cited_what_they_share_and_nothing_else(client, contract_a, telia):
    ContractFactory(customer=contract_a.customer, terms=telia)
    page = portal_client(client, contract_a).get("/portal/report/").content.decode()
    assert "(D §16.9)" not in page and "(D §2)" not in page  # not Telia's: not cited for both
    assert "(D §16.8)" in page and "(T §5.2.1)" in page  # each terms' own line in the box


def test_a_telia_customers_errors_cite_telia_and_never_dstny(client, contract_b):
    client = portal_client(client, contract_b)
    empty = client.post("/portal/report/", report_data(contract_b, a_number="", fault_occurred_at=""))
    page = empty.content.decode()
    assert 'id="id_a_number_error"' in page and 'id="id_fault_occurred_at_error"' in page
    assert not DSTNY_CITE.search(page) and "()" not in page
    foreign = client.post("/portal/report/", report_data(contract_b, a_number="+358 18 12345")).content.decode()
    assert "(T §3.1)" in foreign and not DSTNY_CITE.search(foreign)
    assert not Ticket.objects.exists()


def test_a_dstny_customers_errors_cite_dstny(client, contract_a):
    page = portal_client(client, contract_a).post("/portal/report/", report_data(contract_a, a_number=""))
    assert "(D §16.9)" in page.content.decode()


# Claims ---------------------------------------------------------------------------------------


def test_a_telia_customers_claims_page_cites_no_dstny_clause(client, contract_b):
    page = portal_client(client, contract_b).get("/portal/claims/").content.decode()
    assert 'name="kind"' in page
    assert not ANY_CITE.search(page) and "()" not in page


def test_a_dstny_customers_claim_kinds_cite_dstny(client, contract_a):
    page = portal_client(client, contract_a).get("/portal/claims/").content.decode()
    for ref in ("(D §10.3)", "(D §9.1)", "(D §19)", "(D §20)"):
        assert ref in page


def test_claim_errors_cite_the_contracts_own_terms(contract_a, contract_b):
    from django.core.exceptions import ValidationError

    def errors(contract):
        with pytest.raises(ValidationError) as refused:
            claims.claim_file(
                contract=contract, discovered_on=NOW.date(), description="", tickets=[], amount=1, month=None
            )
        return " ".join(m for ms in refused.value.message_dict.values() for m in ms)

    assert "D §20.2" in errors(contract_a) and "D §10.3" in errors(contract_a)
    telia = errors(contract_b)
    assert not ANY_CITE.search(telia) and "()" not in telia


# Mails ----------------------------------------------------------------------------------------


def test_the_staffs_urgent_mail_cites_the_tickets_terms(contract_a, contract_b):
    dstny = mail_body(fault_report(contract_a, moment=NOW, urgent=True), Notification.Kind.URGENT_REPORT)
    telia = mail_body(telia_report(contract_b, urgent=True), Notification.Kind.URGENT_REPORT)
    assert "(D §16.8)" in dstny
    assert not DSTNY_CITE.search(telia) and "()" not in telia


def test_reply_mails_cite_the_reply_time_only_where_the_terms_give_it(contract_a, contract_b, staff_user):
    dstny_ticket = fault_report(contract_a, moment=NOW)
    services.ticket_request_info(ticket=dstny_ticket, actor=staff_user, message="Vilken telefon?")
    dstny_ticket.refresh_from_db()
    assert "(D §16.7)" in mail_body(dstny_ticket, Notification.Kind.INFO_REQUEST, "Vilken telefon?")
    telia_ticket = telia_report(
        contract_b, a_number="", fault_occurred_at=None, channel="email", accept_missing_details=True
    )
    # A Telia ticket with a reply deadline (a provider's own terms may set one): the sentence
    # reads whole, citing nothing of Dstny's.
    Ticket.objects.filter(pk=telia_ticket.pk).update(
        status=Status.WAITING_FOR_CUSTOMER, customer_reply_due=NOW + datetime.timedelta(hours=48)
    )
    telia_ticket.refresh_from_db()
    for kind in (Notification.Kind.INFO_REQUEST, Notification.Kind.REMINDER, Notification.Kind.ACKNOWLEDGEMENT):
        body = mail_body(telia_ticket, kind, "Vilken telefon?")
        assert not ANY_CITE.search(body) and "()" not in body, kind
        if kind != Notification.Kind.ACKNOWLEDGEMENT:
            assert "Utan svar till dess stängs ärendet." in body  # the sentence, whole, without a reference
    closing = services._closing_text(
        services._closing_sentence("en"), NOW, "Europe/Stockholm", clauses.cited(telia_ticket.terms, "reply_close")
    )
    assert closing.startswith("We did not hear from you by") and "finished. Write" in closing


def test_the_ticket_pages_cite_the_tickets_terms(client, contract_a, contract_b, staff_user):
    dstny_ticket = fault_report(
        contract_a, moment=NOW, a_number="", fault_occurred_at=None, channel="email", accept_missing_details=True
    )
    telia_ticket = telia_report(
        contract_b, a_number="", fault_occurred_at=None, channel="email", accept_missing_details=True
    )
    assert dstny_ticket.details_missing and telia_ticket.details_missing
    client.force_login(staff_user)
    dstny = client.get(f"/desk/tickets/{dstny_ticket.number}/").content.decode()
    telia = client.get(f"/desk/tickets/{telia_ticket.number}/").content.decode()
    assert "(D §16.9)" in dstny
    assert not DSTNY_CITE.search(telia) and "()" not in telia
    services.ticket_request_info(ticket=dstny_ticket, actor=staff_user, message="Vilken telefon?")
    portal = portal_client(client, contract_a).get(f"/portal/tickets/{dstny_ticket.number}/").content.decode()
    assert "(D §16.7)" in portal


# No literal reference in what people read -----------------------------------------------------

GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy", "_lazy"}
# A reference written in quotes ("D §16.9") is an example of the format, in the table's own help.
LITERAL = re.compile(r'(?<!")\b[DT] §\d')


def literal_references() -> list[str]:
    found = []
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.is_file():
            text = re.sub(r"{#.*?#}|{% comment %}.*?{% endcomment %}", "", path.read_text(), flags=re.S)
            found += [f"{path.relative_to(ROOT)}: {m.group()}" for m in LITERAL.finditer(text)]
    for app in ("config", "contracts", "core", "sla", "tickets", "tmf621"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in GETTEXT:
                    continue
                for arg in node.args:
                    for part in ast.walk(arg):
                        if (
                            isinstance(part, ast.Constant)
                            and isinstance(part.value, str)
                            and LITERAL.search(part.value)
                        ):
                            found.append(f"{path.relative_to(ROOT)}:{part.lineno}: {part.value[:60]}")
    return found


def test_no_template_or_translatable_string_writes_a_clause_reference_literally():
    assert literal_references() == []


def test_the_check_finds_a_reference_written_into_a_template(tmp_path, monkeypatch):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        '{# D §16.9 in a comment is fine #}<p>{% translate "x (D §16.9)" %}</p>'
    )
    (tmp_path / "tickets").mkdir()
    (tmp_path / "tickets" / "forms.py").write_text('help = _("The calling number (T §3.1).")  # D §2\n')
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert literal_references() == ["templates/page.html: D §1", "tickets/forms.py:1: The calling number (T §3.1)."]
