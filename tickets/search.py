"""The search box of the staff queue and the API list: what agents type, found.

A query is looked for as: the ticket number (whole or a part, "2026-00012"); an A- or B-number
as typed ("070-123 45 67", "+46 70 123", "701234"); the words of the description and of the
messages (internal notes only when staff search); the customer's name, its contact persons'
names and e-mail addresses, the name and address of the customer user who reported it, and the
sender of any e-mail stored on the ticket.

On PostgreSQL each kind is its own query on its own index (tickets/migrations/0014_search.py)
and gives at most its CANDIDATES newest tickets, joined by UNION: an OR over the kinds, or
ranking every ticket a common word finds, would read hundreds of thousands of rows. Words are
read with the Swedish stemmer on text without accents ("oresund" finds "Öresund", "samtalen"
finds "samtal"); customers write Swedish and English, and an English word still finds itself,
as the text and the query are stemmed alike. The tickets found are ranked: the ticket or phone
number typed first, then a number containing what was typed, then how well the description
matches, then newest.

SQLite, for development, looks in the same fields with plain LIKE and ranks by the numbers only.
"""

from __future__ import annotations

import re
from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import BooleanField, Case, F, FloatField, Func, Q, QuerySet, TextField, Value, When
from django.db.models.lookups import Contains

from contracts.models import ContactPerson, Customer
from tickets.models import InboundEmail, Message

# Tickets taken from each kind of match, newest first, before ranking; the tickets of at most
# MESSAGE_TICKETS matching messages; at most PEOPLE customers, reporters or mails matching a
# name or an address.
CANDIDATES = 500
MESSAGE_TICKETS = 2000
PEOPLE = 1000
# A longer query is cut here: nobody types more, and each word costs an index lookup.
LONGEST_QUERY = 200
# A part of a number is looked for from this many characters (or digits), a name or an address
# from SHORTEST_NAME: a trigram index needs three, and fewer would match nearly every ticket.
SHORTEST_PART = 4
SHORTEST_NAME = 3
NUMBER_PART = re.compile(r"^[A-Za-z0-9-]*\d[A-Za-z0-9-]*$")
PHONE_TYPED = re.compile(r"^\+?[\d\s\-()/.]+$")
# Ticket numbers are prefix-year-sequence ("DA-2026-00012"). A part without enough of the
# sequence ("2024", "DA-2024", "2024-00", "0000") names every ticket of a year: nothing an
# agent looks for, and old years cost PostgreSQL a walk through every newer ticket.
PREFIX_AND_YEAR = re.compile(r"^[A-Za-z]*-?((19|20)\d\d)?-?|-?(19|20)\d\d-?$")
# A whole ticket number is looked up, not looked for inside others (a trigram search for all its
# parts, common ones included, costs 15 ms at a million tickets).
WHOLE_NUMBER = re.compile(r"^[A-Za-z]+-(19|20)\d\d-\d+$")
WORD = re.compile(r"\w+")
TEXT_CONFIG = "tickets_search"
RANK = "search_rank"


class Fold(Func):
    """Lower case without accents, as the trigram indexes hold names and addresses."""

    function = "search_fold"
    output_field = TextField()


class StoredWords(Func):
    """The words of a ticket's description or a message's body, kept by PostgreSQL in the column
    `search_words` beside the model's own (tickets/migrations/0014_search.py). Given the primary
    key, it names the column of whatever alias the table has in the query."""

    output_field = TextField()

    def __init__(self):
        super().__init__(F("pk"))

    def as_sql(self, compiler, connection, function=None, template=None, arg_joiner=None, **extra_context):
        alias = self.get_source_expressions()[0].alias
        return f"{compiler.quote_name_unless_alias(alias)}.search_words", []


class Words(Func):
    """What was typed as words joined by AND; punctuation only separates them."""

    template = f"plainto_tsquery('{TEXT_CONFIG}'::regconfig, %(expressions)s)"
    output_field = TextField()


class Matches(Func):
    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


class AnyId(Func):
    """`id = ANY(%s)`: the ids as one array parameter. As a thousand parameters of `IN`, Django
    took milliseconds to compile them, for the page and again for its count, and the garbage
    they left made every tenth request wait 100 ms for the collector."""

    output_field = BooleanField()

    def __init__(self, ids):
        super().__init__(F("pk"))
        self.ids = list(ids)

    def as_sql(self, compiler, connection, function=None, template=None, arg_joiner=None, **extra_context):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"{sql} = ANY(%s::bigint[])", (*params, self.ids)


class TextRank(Func):
    # Normalisation 32 keeps the rank below 1, under the whole steps of the number matches.
    template = "ts_rank(%(expressions)s, 32)"
    output_field = FloatField()


def typed(query: str) -> str:
    """The query as searched: one space between words, no control characters (PostgreSQL
    refuses a NUL in a string), at most LONGEST_QUERY characters."""
    return " ".join("".join(c if c.isprintable() else " " for c in query).split())[:LONGEST_QUERY]


def matching(queryset: QuerySet, query: str, *, internal_notes: bool, phones: set[str]) -> QuerySet:
    """The tickets of `queryset` the query (as `typed()` gives it) finds, each with its rank
    (RANK). `phones` are the E.164 numbers the query can be; `internal_notes`: whether staff
    notes are searched too."""
    postgresql = connection.vendor == "postgresql"
    kinds = _kinds(query, phones, internal_notes=internal_notes, postgresql=postgresql)
    if postgresql:
        # Read once here: the page and its count would each run every kind again.
        newest = [
            queryset.filter(kind).order_by("-received_at", "-id").values_list("pk", flat=True)[:CANDIDATES]
            for kind in kinds
        ]
        found = queryset.filter(AnyId(newest[0].union(*newest[1:])))
    else:
        found = queryset.filter(reduce(or_, (Q(kind) for kind in kinds)))
    return found.annotate(**{RANK: _rank(query, phones, postgresql=postgresql)})


def _kinds(query: str, phones: set[str], *, internal_notes: bool, postgresql: bool) -> list:
    """One condition per kind of match, each answered by one index on PostgreSQL."""
    kinds: list = [Q(number=query.upper())]
    kinds += [Q(a_number__in=phones), Q(b_number__in=phones)] if phones else []
    kinds += _number_parts(query)
    if len(query) >= SHORTEST_NAME:
        kinds += _people(query, _folded_contains if postgresql else _icontains)
    if WORD.search(query):
        words = _words if postgresql else _all_words
        messages = Message.objects.all() if internal_notes else Message.objects.filter(internal=False)
        # The tickets of the newest matching messages (ticket ids grow with time): taken as a
        # join, PostgreSQL walked every ticket newest first, looking up its messages, for a
        # word in one message of a hundred.
        newest = messages.filter(words("body", query)).order_by("-ticket_id").values("ticket_id")[:MESSAGE_TICKETS]
        kinds += [words("description", query), Q(pk__in=newest)]
    return kinds


def _people(query: str, contains) -> list[Q]:
    """The tickets of customers whose name or contact person (name, address) matches, reported
    by a customer user whose name or address matches, or with a stored e-mail from a matching
    sender. Each list is read first, from a small table, so that PostgreSQL plans the ticket
    query with the ids in hand rather than guessing how many a subquery gives."""
    contacts = ContactPerson.objects.filter(Q(contains("name", query)) | Q(contains("email", query)))
    customers = (
        Customer.objects.filter(contains("name", query))
        .order_by()
        .values_list("pk", flat=True)
        .union(contacts.order_by().values_list("customer_id", flat=True))
    )
    reporters = (
        get_user_model()
        .objects.filter(is_staff=False)
        .filter(Q(contains("email", query)) | Q(contains("first_name", query)) | Q(contains("last_name", query)))
    )
    mails = InboundEmail.objects.filter(contains("sender", query), ticket__isnull=False)
    lookups = [
        ("customer_id__in", customers),
        ("reported_by_id__in", reporters.values_list("pk", flat=True)),
        ("pk__in", mails.values_list("ticket_id", flat=True)),
    ]
    kinds = []
    for lookup, ids in lookups:
        found = list(ids[:PEOPLE])
        if found:
            kinds.append(Q(**{lookup: found}))
    return kinds


def _number_parts(query: str) -> list[Q]:
    """A part of the ticket number ("2026-00012", "00012") and the digits of an A- or B-number as
    typed, which appear inside its E.164 form once the leading 0 or 00 is dropped."""
    parts = []
    sequence = PREFIX_AND_YEAR.sub("", query)
    if (
        NUMBER_PART.match(query)
        and not WHOLE_NUMBER.match(query)
        and len(sequence) >= SHORTEST_PART
        and sequence.strip("0-")
    ):
        parts.append(Q(number__contains=query.upper()))
    digits = typed_digits(query) if PHONE_TYPED.match(query) else ""
    if len(digits) >= SHORTEST_PART:
        parts += [Q(a_number__contains=digits), Q(b_number__contains=digits)]
    return parts


def typed_digits(query: str) -> str:
    """ "070-123 45" → "7012345", "+46 70 123" → "4670123", "00358 18" → "35818"."""
    digits = re.sub(r"\D", "", query)
    if query.startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    return digits.removeprefix("0")


def _folded_contains(field: str, text: str) -> Contains:
    return Contains(Fold(field), Fold(Value(text)))


def _icontains(field: str, text: str) -> Q:
    return Q(**{f"{field}__icontains": text})


def _words(field: str, text: str) -> Matches:
    # The stored words are those of `field` (the description or the body).
    return Matches(StoredWords(), Words(Value(text)))


def _all_words(field: str, text: str) -> Q:
    return reduce(lambda q, word: q & Q(**{f"{field}__icontains": word}), WORD.findall(text), Q())


def _rank(query: str, phones: set[str], *, postgresql: bool):
    """2 for the number typed, 1 for a number containing it, plus below 1 for the words of the
    description on PostgreSQL."""
    exact = Q(number=query.upper())
    if phones:
        exact |= Q(a_number__in=phones) | Q(b_number__in=phones)
    whens = [When(exact, then=Value(2.0))]
    parts = _number_parts(query)
    if parts:
        whens.append(When(reduce(or_, parts), then=Value(1.0)))
    rank = Case(*whens, default=Value(0.0), output_field=FloatField())
    if postgresql and WORD.search(query):
        return rank + TextRank(StoredWords(), Words(Value(query)))
    return rank
