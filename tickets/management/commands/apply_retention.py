from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEvent
from tickets import retention


class Command(BaseCommand):
    help = (
        "Remove attachments and e-mails and mask phone numbers of tickets closed longer than "
        "RETENTION_MONTHS ago, and the audit log's rows older than AUDIT_RETENTION_DAYS (beat runs it nightly)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months",
            type=int,
            default=None,
            help=f"retention period in months (default RETENTION_MONTHS, now {settings.RETENTION_MONTHS})",
        )
        parser.add_argument("--dry-run", action="store_true", help="only count the tickets that are due")

    def handle(self, *args, months=None, dry_run=False, **options):
        months = months if months is not None else settings.RETENTION_MONTHS
        if months < 1:
            raise CommandError("--months must be at least 1")
        now = timezone.now()
        if dry_run:
            count = retention.due(now, months).count()
            self.stdout.write(f"{count} tickets closed before {retention.cutoff(now, months):%Y-%m-%d} are due")
            before = audit.cutoff(now, settings.AUDIT_RETENTION_DAYS)
            self.stdout.write(
                f"{AuditEvent.objects.filter(at__lt=before).count()} audit events before {before:%Y-%m-%d} are due"
            )
            return
        self.stdout.write(str(retention.apply(now=now, months=months)))
        self.stdout.write(f"{audit.expire(now=now)} audit events removed")
