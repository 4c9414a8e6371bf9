"""Latency of the staff queue and the API ticket list over 1,000,000 tickets on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/tickets_list.py [--tickets 1000000] [--requests 200]

It creates (or reuses) a database named `servicedesk_bench` on that server, fills it once with
customers, contracts and tickets (2 % of them open, as in a desk that keeps up), a contact
person per customer and messages on one ticket in ten (each filled once when missing), then
times full requests through Django's test client: middleware, queries, serialisation and
templates.
"""

import argparse
import os
import pathlib
import statistics
import sys
import time
from urllib.parse import urlencode

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "servicedesk_bench"

# `make bench-smoke` (BENCH_SMOKE=1, run by CI): every benchmark at about a thousand tickets on a
# database of its own, made afresh each time, so that a benchmark which no longer runs is noticed
# the day it breaks. Its figures mean nothing; the sizes written in each script are the real ones.
SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def size(full: int, smoke: int) -> int:
    """The real size, or the smoke run's."""
    return smoke if SMOKE else full


def backend_cpu(pid: int) -> float:
    """User and system CPU seconds of a local PostgreSQL backend so far (the kernel counts in
    10 ms ticks)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare_environment(name: str = BENCH_DB) -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres")
    import psycopg

    base, _, _name = url.rpartition("/")
    if SMOKE:
        name += "_smoke"
    with psycopg.connect(url, autocommit=True) as connection:
        if SMOKE:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{base}/{name}"
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")  # the test client speaks plain HTTP
    # Staff are signed in with force_login, no second factor; the requirement's own check is a
    # look into the session already read, so the pages cost the same with it.
    os.environ.setdefault("STAFF_MFA_REQUIRED", "false")


FILL_SQL = """
INSERT INTO contracts_customer (name, org_number, language, created_at)
SELECT 'Bench customer ' || g, lpad(g::text, 7, '0') || '-' || (g % 10), 'sv', now()
FROM generate_series(1, %(customers)s) g;

INSERT INTO contracts_contract (customer_id, terms_id, signed_on, delivered_on, description, one_time_fee,
                                delivery_delay_cause, created_at, updated_at)
SELECT c.id, CASE WHEN c.id %% 3 = 0 THEN %(telia)s ELSE %(dstny)s END, '2024-01-01', '2024-02-01', '', 0, '', now(), now()
FROM contracts_customer c;

INSERT INTO contracts_contractfee (contract_id, effective_from, monthly_fee, created_at)
SELECT k.id, k.signed_on, 500, now() FROM contracts_contract k;

INSERT INTO tickets_ticket (
    number, contract_id, customer_id, terms_id, category, urgent, a_number, b_number,
    fault_occurred_at, description, channel, received_at, effective_received_at,
    service_start_due, service_started_at, status, close_reason, customer_reply_due,
    classification, not_fault_reason, caused_by_customer_change, details_missing, created_at, updated_at)
SELECT
    'BEN-' || to_char(t.received, 'YYYY') || '-' || lpad(g::text, 7, '0'),
    k.id, k.customer_id, k.terms_id, 'fault', g % 17 = 0,
    '+35818' || lpad((g % 100000)::text, 5, '0'), '+4670' || lpad((g % 10000000)::text, 7, '0'),
    t.received - interval '10 minutes', 'Samtal bryts efter några sekunder (bench ' || g || ').', 'web',
    t.received, t.received, t.received + interval '4 hours',
    CASE WHEN g % 50 = 0 THEN NULL ELSE t.received + interval '1 hour' END,
    CASE WHEN g % 50 = 0 THEN 'new' ELSE 'closed' END,
    CASE WHEN g % 50 = 0 THEN NULL ELSE 'resolved' END,
    NULL, NULL, NULL, false, false, t.received, t.received
FROM generate_series(1, %(tickets)s) g
CROSS JOIN LATERAL (SELECT timestamptz '2024-01-01' + (g * interval '90 seconds') AS received) t
JOIN contracts_contract k ON k.id = (SELECT min(id) FROM contracts_contract) + (g %% %(customers)s);
"""


# One contact person per customer, and on every tenth ticket the customer's message and the
# staff's answer in Swedish naming one of 11 things and 37 places; every fiftieth ticket also has
# an internal note. Built from the ids, so the same words each time.
CONVERSATIONS_SQL = """
INSERT INTO contracts_contactperson (customer_id, name, email, phone, region, is_primary)
SELECT c.id, f.name || ' ' || l.name,
       search_fold(f.name) || '.' || search_fold(l.name) || '@kund' || c.id || '.example',
       '+46701' || lpad(c.id::text, 6, '0'), '', true
FROM contracts_customer c
CROSS JOIN LATERAL (SELECT (ARRAY['Anna','Erik','Åsa','Jörgen','Maria','Lars','Karin','Björn','Eva','Mikael',
                                  'Sofia','Anders','Linnéa','Per','Helena','Johan','Ingrid','Mats','Elin','Göran'])
                           [1 + c.id % 20] AS name) f
CROSS JOIN LATERAL (SELECT (ARRAY['Lindqvist','Söderberg','Öberg','Nyström','Åkesson','Berg','Holmström','Ekström',
                                  'Wikström','Sjögren','Lundgren','Fält','Dahlén','Strand','Hägglund','Ljung','Västlund'])
                           [1 + c.id % 17] AS name) l
WHERE NOT EXISTS (SELECT 1 FROM contracts_contactperson);

INSERT INTO tickets_message (ticket_id, internal, body, channel, created_at, author_id)
SELECT t.id, m.internal, m.body, 'web', t.received_at + m.after, NULL
FROM tickets_ticket t
CROSS JOIN LATERAL (SELECT
    (ARRAY['Öresund','Göteborg','Malmö','Västerås','Jönköping','Umeå','Luleå','Mariehamn','Åbo','Gävle',
           'Norrköping','Linköping','Örebro','Borås','Södertälje','Växjö','Skellefteå','Östersund','Härnösand',
           'Sundsvall','Eskilstuna','Halmstad','Kalmar','Karlstad','Kristianstad','Lund','Nyköping','Piteå',
           'Trollhättan','Uddevalla','Visby','Ystad','Falun','Borlänge','Motala','Kiruna','Vänersborg'])
        [1 + t.id / 10 % 37] AS place,
    (ARRAY['växeln','telefonkön','röstbrevlådan','SIP-trunken','mobilappen','IVR-menyn','hänvisningen',
           'köfunktionen','vidarekopplingen','softphonen','inspelningen'])[1 + t.id / 10 % 11] AS thing) w
CROSS JOIN LATERAL (VALUES
    (false, interval '5 minutes',
     'Hej! Vi har fortfarande problem med ' || w.thing || ' på kontoret i ' || w.place
     || '. Samtalen kopplas inte fram och kunderna hör bara tystnad. Mvh'),
    (false, interval '40 minutes',
     'Hej, vi har startat om ' || w.thing || ' och ser att registreringen mot ' || w.place
     || ' fungerar igen. Hör av er om felet kommer tillbaka.'),
    (true, interval '45 minutes',
     'Intern: brandväggen hos kunden släppte inte igenom RTP, kontrollerat med leverantören.')
) m(internal, after, body)
WHERE t.id % 10 = 0 AND (NOT m.internal OR t.id % 50 = 0)
  AND NOT EXISTS (SELECT 1 FROM tickets_message);
"""


def fill_conversations() -> None:
    from django.db import connection

    from tickets.models import Message

    if Message.objects.exists():
        return
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(CONVERSATIONS_SQL)
        cursor.execute("VACUUM ANALYZE")
    print(f"Filled contact persons and {Message.objects.count():,} messages in {time.perf_counter() - began:.0f} s.")


def fill(tickets: int, customers: int) -> None:
    from django.db import connection

    from contracts.models import ServiceTerms
    from tickets.models import Ticket

    have = Ticket.objects.count()
    if have >= tickets:
        print(f"Reusing {have:,} tickets in {connection.settings_dict['NAME']}.")
        return
    if have:
        sys.exit(f"{connection.settings_dict['NAME']} holds {have:,} tickets; drop it to refill it.")
    dstny = ServiceTerms.objects.get(slug="dstny-alcom-2022").pk
    telia = ServiceTerms.objects.get(slug="telia-smart-connect").pk
    began = time.perf_counter()
    sql = (
        FILL_SQL.replace("%%", "%")
        .replace("%(customers)s", str(customers))
        .replace("%(tickets)s", str(tickets))
        .replace("%(telia)s", str(telia))
        .replace("%(dstny)s", str(dstny))
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.execute("VACUUM ANALYZE")
    print(f"Filled {tickets:,} tickets for {customers:,} customers in {time.perf_counter() - began:.0f} s.")


def measure(client, label: str, path: str, requests: int) -> None:
    timings = []
    for _ in range(3):
        client.get(path)
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"{label:52} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=size(1_000_000, 1_000))
    parser.add_argument("--customers", type=int, default=size(5_000, 50))
    parser.add_argument("--requests", type=int, default=size(200, 3))
    args = parser.parse_args()
    prepare_environment()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    fill(args.tickets, args.customers)
    fill_conversations()
    staff, _ = get_user_model().objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(staff)
    from contracts.models import ContactPerson
    from tickets.models import Ticket

    sample = Ticket.objects.order_by("-id").values_list("number", "b_number", "customer_id", "a_number")[
        size(1234, 123)
    ]
    contact = ContactPerson.objects.get(customer_id=sample[2]).email
    a_part = "0" + sample[3][4:6] + " " + sample[3][6:10]  # "018 1234" of +3581812345
    b_part = "0" + sample[1][3:5] + "-" + sample[1][5:9]  # "070-1234" of +46701234567
    print(f"\n{args.requests} requests each, one client, after 3 warm-up requests:\n")
    measure(client, "staff queue (open tickets, page 1)", "/desk/", args.requests)
    measure(client, "staff queue, urgent only", "/desk/?urgent=true", args.requests)
    measure(client, "staff queue, one customer", f"/desk/?customer={sample[2]}", args.requests)
    measure(client, "staff queue, search by ticket number", f"/desk/?q={sample[0]}", args.requests)
    search = [
        ("a word of the messages", "röstbrevlådan"),
        ("a word without its accents", "vasteras"),
        ("two words, one inflected", "kontoret samtal"),
        ("a word in every ticket", "samtal"),
        ("part of a ticket number", sample[0][4:14]),
        ("part of an A-number, national", a_part),
        ("part of a B-number, national", b_part),
        ("a contact's e-mail address", contact),
        ("part of a customer's name", "customer 12"),
    ]
    for label, query in search:
        measure(client, f"staff queue, {label}", "/desk/?" + urlencode({"q": query}), args.requests)
    measure(
        client,
        "staff queue, a word in every ticket, all",
        "/desk/?" + urlencode({"q": "samtal", "status": "all"}),
        args.requests,
    )
    measure(client, "API list, page 1 (50 tickets)", "/api/tickets/", args.requests)
    measure(client, "API list, page 1, one customer", f"/api/tickets/?customer={sample[2]}", args.requests)
    measure(client, "API list, open tickets", "/api/tickets/?status=new,in_progress", args.requests)
    for label, query in search[:4] + search[7:8]:
        measure(client, f"API list, {label}", "/api/tickets/?" + urlencode({"q": query}), args.requests)


if __name__ == "__main__":
    main()
