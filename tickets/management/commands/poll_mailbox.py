from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tickets import mailbox


class Command(BaseCommand):
    help = (
        "Take the waiting e-mail from the IMAP mailbox once (IMAP_* settings), as the beat task "
        "does every IMAP_POLL_SECONDS. Useful to check the settings."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=None, help="at most this many e-mails")

    def handle(self, *args, batch=None, **options):
        if batch is not None and batch < 1:
            raise CommandError("--batch must be at least 1")
        try:
            result = mailbox.poll(batch=batch)
        except mailbox.MailboxError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{settings.IMAP_USER}@{settings.IMAP_HOST}/{settings.IMAP_MAILBOX}: {result}")
