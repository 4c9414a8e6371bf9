import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from sla import reports, selectors


class Command(BaseCommand):
    help = "Snapshot a month's availability and discounts (YYYY-MM) for every active contract, or one."

    def add_arguments(self, parser):
        parser.add_argument("month", help="YYYY-MM")
        parser.add_argument("--contract", type=int, help="only this contract")

    def handle(self, *args, month, contract=None, **options):
        try:
            year, number = selectors.parse_month(month, today=timezone.localdate())
        except ValidationError as error:
            raise CommandError(error.message_dict["month"][0]) from None
        contracts = reports.contracts_in_month(year, number)
        if contract is not None:
            contracts = contracts.filter(pk=contract)
            if not contracts.exists():
                raise CommandError(f"Contract {contract} does not exist or was not active in {month}.")
        contracts = list(contracts)
        began = datetime.datetime.now()
        with tqdm(total=len(contracts), unit="contract", disable=None, file=self.stderr) as bar:
            try:
                created, recomputed = reports.store_month(year, number, contracts=contracts, progress=bar.update)
            except reports.MonthNotOver as error:
                raise CommandError(str(error)) from None
        seconds = (datetime.datetime.now() - began).total_seconds()
        self.stdout.write(
            f"{month}: {created} reports stored, {recomputed} stale ones recomputed, "
            f"{len(contracts) - created - recomputed} unchanged ({seconds:.1f} s)."
        )
