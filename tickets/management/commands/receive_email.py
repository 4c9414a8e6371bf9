import sys

from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError

from tickets import inbound

# sysexits.h: the mail server keeps the message and delivers it again later.
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = (
        "Take one RFC 822 e-mail from standard input (for an MTA pipe) and place it. Exits 75 "
        "(temporary failure: the mail server keeps the mail and retries) when the database is away."
    )

    def handle(self, *args, **options):
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            self.stderr.write("No e-mail on standard input.")
            raise SystemExit(1)
        try:
            record = inbound.receive(raw)
        except (OperationalError, InterfaceError) as error:
            self.stderr.write(f"Database unavailable, e-mail not taken; deliver it again later: {error}")
            raise SystemExit(EX_TEMPFAIL) from None
        ticket = f" {record.ticket.number}" if record.ticket else ""
        self.stdout.write(f"{record.outcome}{ticket}")  # a log line: the same words in every language
