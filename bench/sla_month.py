"""One month of SLA reports for 10,000 contracts with 50,000 outages (a tenth service-wide).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/sla_month.py

Uses its own database `servicedesk_bench_sla` (filled once, reused): 10,000 customers with one
contract each (two thirds on the Dstny terms, one third on Telia's), 50,000 outages spread
over the twelve months to October 2026. Each run deletes October's reports and stores them
again with `sla.reports.store_month`, timing it and reporting the process's peak memory.
"""

import os
import pathlib
import resource
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tickets_list import prepare_environment, size

CUSTOMERS = size(10_000, 50)
OUTAGES = size(50_000, 250)

FILL = """
INSERT INTO contracts_customer (name, org_number, language, created_at)
SELECT 'SLA customer ' || g, lpad(g::text, 7, '0') || '-' || (g % 10), 'sv', now()
FROM generate_series(1, {customers}) g;

INSERT INTO contracts_contract (customer_id, terms_id, signed_on, delivered_on, description, one_time_fee,
                                delivery_delay_cause, created_at, updated_at)
SELECT c.id, CASE WHEN c.id % 3 = 0 THEN {telia} ELSE {dstny} END, '2024-01-01', '2024-02-01', '', 0, '', now(), now()
FROM contracts_customer c;

INSERT INTO contracts_contractfee (contract_id, effective_from, monthly_fee, created_at)
SELECT k.id, k.signed_on, 100 + k.customer_id % 900, now() FROM contracts_contract k;

INSERT INTO sla_outage (service_wide, started_at, ended_at, kind, responsibility, description,
                        short_notice_terms, announced_via, confirmation_note, confirmed_ticket_ids,
                        service, source, external_id, confirmed, discard_reason, created_at, updated_at)
SELECT g % 10 = 0,
       timestamptz '2025-11-01 00:00+02' + (g * interval '629 seconds'),
       timestamptz '2025-11-01 00:00+02' + (g * interval '629 seconds') + ((g % 240) + 1) * interval '1 minute',
       CASE WHEN g % 4 = 0 THEN 'planned' ELSE 'unplanned' END,
       CASE WHEN g % 5 = 0 THEN 'customer' ELSE 'supplier' END,
       'bench outage ' || g, '[]', '', '', '[]', '{dstny_slug}', 'staff', '', true, '', now(), now()
FROM generate_series(1, {outages}) g;

INSERT INTO sla_outage_contracts (outage_id, contract_id)
SELECT o.id, (SELECT min(id) FROM contracts_contract) + (o.id * 7919) % {customers}
FROM sla_outage o WHERE NOT o.service_wide;
"""


def main() -> None:
    prepare_environment("servicedesk_bench_sla")
    os.environ["CELERY_BROKER_URL"] = "memory://"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from contracts.models import ServiceTerms
    from sla import reports
    from sla.models import MonthlyReport, Outage

    call_command("migrate", verbosity=0)
    if not Outage.objects.exists():
        began = time.perf_counter()
        sql = FILL.format(
            dstny=ServiceTerms.objects.get(slug="dstny-alcom-2022").pk,
            telia=ServiceTerms.objects.get(slug="telia-smart-connect").pk,
            dstny_slug="dstny-alcom-2022",
            customers=CUSTOMERS,
            outages=OUTAGES,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.execute("VACUUM ANALYZE")
        print(f"Filled in {time.perf_counter() - began:.0f} s.")
    print(f"{Outage.objects.count():,} outages, {Outage.objects.filter(service_wide=True).count():,} service-wide")
    MonthlyReport.objects.filter(month="2026-10-01").delete()
    began = time.perf_counter()
    created, recomputed = reports.store_month(2026, 10)
    elapsed = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with_discount = MonthlyReport.objects.filter(month="2026-10-01", discount_percent__gt=0).count()
    print(f"October 2026: {created:,} reports in {elapsed:.1f} s; peak memory {peak:.0f} MB")
    print(f"  {with_discount:,} contracts earn a discount")

    # A service-wide fault registered late: every stored report of the month is recomputed,
    # each with its revision.
    import datetime

    from sla import services

    began = time.perf_counter()
    late = services.outage_register(
        started_at=datetime.datetime(2026, 10, 14, 9, 0, tzinfo=datetime.UTC),
        ended_at=datetime.datetime(2026, 10, 14, 9, 30, tzinfo=datetime.UTC),
        kind="unplanned",
        responsibility="supplier",
        service="dstny-alcom-2022",
        description="bench: registered late",
    )
    marked = MonthlyReport.objects.filter(month="2026-10-01", stale=True).count()
    mark_seconds = time.perf_counter() - began
    began = time.perf_counter()
    recomputed = reports.recompute_stale()
    elapsed = time.perf_counter() - began
    print(
        f"  a late service-wide outage: {marked:,} reports marked stale in {mark_seconds:.1f} s, "
        f"{recomputed:,} recomputed with their revisions in {elapsed:.1f} s"
    )
    late.delete()
    MonthlyReport.objects.filter(month="2026-10-01").delete()


if __name__ == "__main__":
    main()
