"""The search box of the staff queue and the API list (tickets/search.py): each kind of match,
the order of what is found, what a customer may find, and input that is no search at all. Runs
on SQLite (plain LIKE) and on PostgreSQL (full-text and trigram indexes)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from tests.factories import ContactPersonFactory, CustomerUserFactory, fault_report
from tickets import services
from tickets.models import Channel, InboundEmail

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 1, 10, 0, tzinfo=MARIEHAMN)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="accents, stemming and ranking by words are PostgreSQL's"
)


def report(contract, actor, minutes=0, **overrides):
    return fault_report(contract, actor, NOW + datetime.timedelta(minutes=minutes), **overrides)


@pytest.fixture
def desk(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def found(desk, query: str, **params) -> list[str]:
    """The ticket numbers the queue lists for a search, in its order."""
    page = desk.get("/desk/", {"q": query, **params}).content.decode()
    return [chunk.split("/", 1)[0] for chunk in page.split('data-href="/desk/tickets/')[1:]]


def test_part_of_a_ticket_number_finds_it(desk, contract_a, customer_a_user):
    first, second = report(contract_a, customer_a_user), report(contract_a, customer_a_user, minutes=1)
    year_and_sequence = second.number.split("-", 1)[1]  # "2026-00002" of "DA-2026-00002"
    assert found(desk, year_and_sequence) == [second.number]
    assert found(desk, second.number.rsplit("-", 1)[1]) == [second.number]
    assert found(desk, first.number.lower()) == [first.number]
    assert found(desk, "2026") == [] == found(desk, second.number.split("-")[0] + "-2026")  # a year is no number


def test_part_of_an_a_number_as_typed_nationally_finds_it(desk, contract_a, customer_a_user):
    wanted = report(contract_a, customer_a_user, a_number="018 12345")
    report(contract_a, customer_a_user, minutes=1, a_number="018 54321")
    assert wanted.a_number == "+3581812345"
    assert found(desk, "018 123") == [wanted.number]
    assert found(desk, "1812") == [wanted.number]
    assert found(desk, "+358 18 123") == [wanted.number]
    assert found(desk, "812") == []  # three digits are part of too many numbers to list


def test_a_word_of_the_description_finds_the_ticket(desk, contract_a, customer_a_user):
    wanted = report(contract_a, customer_a_user, description="Brandväggen blockerar SIP efter bytet.")
    report(contract_a, customer_a_user, minutes=1)
    assert found(desk, "brandväggen") == [wanted.number]
    assert found(desk, "blockerar SIP") == [wanted.number]
    assert found(desk, "blockerar fax") == []  # every word must be there


def test_a_word_of_a_message_or_an_internal_note_finds_the_ticket_for_staff(
    desk, staff_user, contract_a, customer_a_user
):
    replied, noted = report(contract_a, customer_a_user), report(contract_a, customer_a_user, minutes=1)
    services.ticket_reply(ticket=replied, actor=customer_a_user, message="Växeln i Mariehamn svarar inte.")
    services.ticket_reply(ticket=noted, actor=staff_user, message="Leverantören bekräftar felet.", internal=True)
    assert found(desk, "Mariehamn") == [replied.number]
    assert found(desk, "Leverantören") == [noted.number]


@postgresql_only
def test_words_are_found_without_accents_and_in_other_forms(desk, staff_user, contract_a, customer_a_user):
    ticket = report(contract_a, customer_a_user, description="Samtalen bryts.")
    other = report(contract_a, customer_a_user, minutes=1, description="Faxen fungerar inte.")
    services.ticket_reply(ticket=other, actor=customer_a_user, message="Kontoret vid Öresund har inget nät.")
    assert found(desk, "oresund") == [other.number]
    assert found(desk, "ÖRESUND") == [other.number]
    assert found(desk, "samtal") == [ticket.number]


def test_the_customers_name_finds_its_tickets(desk, contract_a, contract_b, customer_a_user):
    beta = report(contract_b, customer_a_user, a_number="070-765 43 21", b_number="08-123 456 78")
    report(contract_a, customer_a_user)
    assert found(desk, "beta") == [beta.number]


def test_a_contact_persons_name_or_address_finds_the_customers_tickets(
    desk, customer_a, contract_a, contract_b, customer_a_user
):
    ContactPersonFactory(customer=customer_a, name="Åsa Öberg", email="asa.oberg@alfa.example")
    alfa = report(contract_a, customer_a_user)
    report(contract_b, customer_a_user, a_number="070-765 43 21", b_number="08-123 456 78")
    assert found(desk, "Öberg") == [alfa.number]
    assert found(desk, "asa.oberg@alfa") == [alfa.number]
    assert found(desk, "ASA.OBERG@ALFA.EXAMPLE") == [alfa.number]


def test_the_reporters_address_and_an_e_mails_sender_find_the_ticket(desk, contract_a, customer_a):
    reporter = CustomerUserFactory(customer=customer_a, email="nils.nord@alfa.example")
    by_reporter = report(contract_a, reporter)
    by_mail = report(contract_a, None, minutes=1, channel=Channel.EMAIL)
    InboundEmail.objects.create(
        message_id="<1@mail.example>",
        received_at=NOW,
        sender="drift@kund.example",
        raw=b"",
        outcome=InboundEmail.Outcome.NEW_TICKET,
        ticket=by_mail,
    )
    assert found(desk, "nils.nord") == [by_reporter.number]
    assert found(desk, "drift@kund") == [by_mail.number]


def test_the_number_typed_comes_first_then_the_newest(desk, staff_api, contract_a, customer_a_user):
    typed = report(contract_a, customer_a_user)
    older = report(contract_a, customer_a_user, minutes=1, description=f"Samma fel som {typed.number}.")
    newer = report(contract_a, customer_a_user, minutes=2, description=f"Se även {typed.number}.")
    assert found(desk, typed.number) == [typed.number, newer.number, older.number]
    results = [t["number"] for t in staff_api.get("/api/tickets/", {"q": typed.number}).json()["results"]]
    assert results == [typed.number, newer.number, older.number]


@postgresql_only
def test_a_description_that_matches_comes_before_a_newer_ticket_found_by_its_messages(
    desk, staff_user, contract_a, customer_a_user
):
    described = report(contract_a, customer_a_user, description="Röstbrevlådan tar inte emot meddelanden.")
    discussed = report(contract_a, customer_a_user, minutes=1)
    services.ticket_reply(ticket=discussed, actor=staff_user, message="Röstbrevlådan är omstartad.")
    assert found(desk, "röstbrevlådan") == [described.number, discussed.number]


def test_a_column_chosen_orders_what_the_search_found(desk, contract_a, customer_a_user):
    typed = report(contract_a, customer_a_user)
    mention = report(contract_a, customer_a_user, minutes=1, description=f"Som {typed.number}.")
    assert found(desk, typed.number) == [typed.number, mention.number]
    assert found(desk, typed.number, sort="-number") == [mention.number, typed.number]
    assert found(desk, typed.number, sort="received") == [typed.number, mention.number]


def test_a_customer_finds_only_its_own_tickets_and_never_by_an_internal_note(
    customer_a_api, staff_api, staff_user, contract_a, contract_b, customer_a_user, customer_b
):
    own = report(contract_a, customer_a_user, description="Kön till växeln stängs.")
    services.ticket_reply(ticket=own, actor=staff_user, message="Misstänkt sabotage av konsulten.", internal=True)
    beta_user = CustomerUserFactory(customer=customer_b)
    report(
        contract_b,
        beta_user,
        a_number="070-765 43 21",
        b_number="08-123 456 78",
        description="Kön till växeln stängs också här.",
    )

    def numbers(client, query):
        return [t["number"] for t in client.get("/api/tickets/", {"q": query}).json()["results"]]

    assert numbers(customer_a_api, "växeln") == [own.number]
    assert numbers(customer_a_api, "Beta") == []
    assert numbers(customer_a_api, "sabotage") == []
    assert numbers(staff_api, "sabotage") == [own.number]
    assert len(numbers(staff_api, "växeln")) == 2


@pytest.mark.parametrize(
    "query",
    [
        "x" * 5000,
        "Samtal " * 400,
        "!!! ... %%% ___ ***",
        "'; DROP TABLE tickets_ticket; --",
        "a' OR '1'='1",
        "samtal\tkopplas\u200b",
        "%",
        "_",
        "\\",
        "& | ! ( ) :*",
        "2024",
        "0",
    ],
)
def test_any_query_is_answered_without_an_error(desk, staff_api, customer_a_api, contract_a, customer_a_user, query):
    report(contract_a, customer_a_user)
    assert desk.get("/desk/", {"q": query}).status_code == 200
    assert staff_api.get("/api/tickets/", {"q": query}).status_code == 200
    assert customer_a_api.get("/api/tickets/", {"q": query}).status_code == 200


def test_a_nul_character_is_refused_as_in_any_parameter(desk, staff_api):
    # config/middleware.py refuses it before any view; PostgreSQL could not take it.
    assert desk.get("/desk/", {"q": "samtal\x00"}).status_code == 400
    assert staff_api.get("/api/tickets/", {"q": "samtal\x00"}).status_code == 400


def test_punctuation_and_wildcards_find_nothing_rather_than_everything(desk, contract_a, customer_a_user):
    report(contract_a, customer_a_user)
    for query in ["%", "_", "%%%", "___", "!!!"]:
        assert found(desk, query) == []


def test_a_search_runs_a_constant_number_of_queries(desk, contract_a, customer_a_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = desk.get("/desk/", {"q": "samtal"})
        return len(captured), response.content.decode().count('data-href="/desk/tickets/')

    for minute in range(3):
        report(contract_a, customer_a_user, minutes=minute)
    few, shown = count()
    assert shown == 3
    for minute in range(3, 30):
        report(contract_a, customer_a_user, minutes=minute)
    # The queue's own, the customers, reporters and e-mails named, and the matches read once.
    assert count() == (few, 30)
