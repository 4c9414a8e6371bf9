from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sla import personal_data


class Command(BaseCommand):
    help = (
        "One person's data by their e-mail address (GDPR Art. 15 and 17): `export EMAIL --output FILE.zip` writes "
        "everything the desk holds about them; `erase EMAIL --yes` masks and removes it for good, keeping ticket "
        "numbers, times, classifications and time logs. Staff users' addresses are refused."
    )

    def add_arguments(self, parser):
        operations = parser.add_subparsers(dest="operation", required=True)
        export = operations.add_parser("export", help="write data.json and the files into a zip")
        export.add_argument("email")
        export.add_argument("--output", required=True, help="the zip to write (must not exist yet)")
        erase = operations.add_parser("erase", help="erase the person's data (answers nothing without --yes)")
        erase.add_argument("email")
        erase.add_argument("--yes", action="store_true", help="yes, erase it: this cannot be undone")

    def handle(self, *args, operation, email, **options):
        try:
            person = personal_data.find(email)
            if operation == "export":
                self._export(person, Path(options["output"]))
            else:
                self._erase(person, options["yes"])
        except personal_data.Refused as refusal:
            raise CommandError(str(refusal)) from None

    def _export(self, person, output: Path) -> None:
        if output.exists():
            raise CommandError(f"{output} exists already: name a new file.")
        counts = personal_data.export(person, output)
        self.stdout.write(f"{person.email}: {_said(counts)} written to {output}.")

    def _erase(self, person, yes: bool) -> None:
        if not yes:
            tickets = personal_data.reported(person).count()
            raise CommandError(
                f"This erases for good what the desk holds about {person.email}: {len(person.users)} users, "
                f"{len(person.contacts)} contact persons, {tickets} tickets reported, "
                f"{personal_data.emails_received(person).count()} e-mails received. Nothing was changed; "
                "run it again with --yes to erase (export it first if the person asked for a copy)."
            )
        counts = personal_data.erase(person)
        self.stdout.write(f"{person.email}: erased ({_said(counts)}); the users can no longer sign in.")


def _said(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {what}" for what, count in counts.items())
