"""Mail in: 1,000 fault reports waiting in a real IMAP mailbox (Dovecot on loopback, TLS), taken
by `tickets.mailbox.poll` into PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/mail_in.py

Uses its own database `servicedesk_bench_mail` (emptied of tickets and mail each run) and a
Dovecot started for the run (Debian's dovecot-imapd). Half the mails come from known contacts
with A/B numbers and a time, a quarter are replies to those tickets, a quarter come from
strangers. Reports mails per second for the whole poll (fetch, parse, store, acknowledge,
mark seen) and the process's peak memory.
"""

import os
import pathlib
import resource
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tickets_list import prepare_environment, size

MAILS = size(1000, 40)


def mail(index: int, sender: str, subject: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <bench-{index}@x>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Samtal bryts hos oss.\r\nA-nummer: 018 12345\r\nB-nummer: 040 123 {index % 10000:04d}\r\n"
        "Tidpunkt: 2026-11-20 10:15\r\n"
    ).encode()


def main() -> None:
    prepare_environment("servicedesk_bench_mail")
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from contracts.models import Contract, ServiceTerms
    from tests import imap_server
    from tests.factories import ContractFactory, CustomerFactory
    from tickets import mailbox
    from tickets.models import InboundEmail, Ticket

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tickets_inboundemail, tickets_ticket, tickets_ticketnumbersequence CASCADE")
    if not Contract.objects.exists():
        for index in range(50):
            contract = ContractFactory(
                customer=CustomerFactory(name=f"Mail customer {index}"),
                terms=ServiceTerms.objects.get(slug="dstny-alcom-2022"),
            )
            contract.customer.contacts.create(name="Contact", email=f"contact{index}@customer.example", is_primary=True)

    with imap_server.running() as server:
        settings.IMAP_HOST, settings.IMAP_PORT, settings.IMAP_TLS = "127.0.0.1", server.port, "ssl"
        settings.IMAP_USER, settings.IMAP_PASSWORD = imap_server.USER, imap_server.PASSWORD
        settings.IMAP_CA_FILE, settings.IMAP_BATCH = server.ca_file, MAILS
        reports = MAILS // 2
        client = server.client()
        for index in range(reports):
            client.append("INBOX", None, None, mail(index, f"contact{index % 50}@customer.example", "Fel på växeln"))
        client.logout()
        started = time.perf_counter()
        first = mailbox.poll()
        first_seconds = time.perf_counter() - started

        numbers = list(Ticket.objects.order_by("pk").values_list("number", "customer__contacts__email"))
        client = server.client()
        for index in range(reports, reports + MAILS // 4):
            number, sender = numbers[index % len(numbers)]
            client.append("INBOX", None, None, mail(index, sender, f"SV: [{number}] Fel på växeln"))
        for index in range(reports + MAILS // 4, MAILS):
            client.append("INBOX", None, None, mail(index, f"stranger{index}@elsewhere.example", "Hej"))
        client.logout()
        started = time.perf_counter()
        second = mailbox.poll()
        second_seconds = time.perf_counter() - started

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"mail_in: Dovecot over TLS → PostgreSQL, Python {sys.version.split()[0]}, one process")
    print(f"  {first.taken} new reports: {first_seconds:.2f} s, {first.taken / first_seconds:,.0f} mails/s ({first})")
    print(
        f"  {second.taken} replies and strangers: {second_seconds:.2f} s, "
        f"{second.taken / second_seconds:,.0f} mails/s ({second})"
    )
    print(f"  tickets {Ticket.objects.count()}, stored mails {InboundEmail.objects.count()}, peak {peak:.0f} MB")


if __name__ == "__main__":
    main()
