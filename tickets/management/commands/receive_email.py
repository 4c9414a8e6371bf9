import sys

from django.core.management.base import BaseCommand

from tickets import inbound


class Command(BaseCommand):
    help = "Take one RFC 822 e-mail from standard input (for an MTA pipe) and place it."

    def handle(self, *args, **options):
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            self.stderr.write("No e-mail on standard input.")
            raise SystemExit(1)
        record = inbound.receive(raw)
        ticket = f" {record.ticket.number}" if record.ticket else ""
        self.stdout.write(f"{record.get_outcome_display()}{ticket}")
