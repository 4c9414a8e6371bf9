"""Alertmanager's webhook on PostgreSQL: one call carrying 500 alerts, and 10,000 repeated
notifications of one alert.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/monitoring.py

Uses its own database `servicedesk_bench_monitoring` (emptied of outages and alerts each run):
500 contracts on the Dstny terms. Each request goes through Django's test client with a
monitoring user's token (middleware, authentication, parsing, the service), without a WSGI
server. Prints the time of the 500-alert call (target: well under 2 s) and of its repetition
(each alert known: nothing changes), then the repeated notifications' rate and that they left
one outage.
"""

import datetime
import json
import os
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tickets_list import prepare_environment, size

ALERTS = size(500, 20)
REPEATS = size(10_000, 50)


def body(alerts: list[dict]) -> bytes:
    return json.dumps(
        {
            "receiver": "service-desk",
            "status": "firing",
            "alerts": alerts,
            "groupLabels": {"alertname": "TrunkDown"},
            "commonLabels": {"alertname": "TrunkDown"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.internal:9093",
            "version": "4",
            "groupKey": '{}:{alertname="TrunkDown"}',
            "truncatedAlerts": 0,
        }
    ).encode()


def alert(fingerprint: str, contract: int, starts: datetime.datetime) -> dict:
    return {
        "status": "firing",
        "labels": {"alertname": "TrunkDown", "service": "dstny-alcom-2022", "contract": str(contract)},
        "annotations": {"summary": f"Trunk of contract {contract} is down"},
        "startsAt": starts.isoformat(),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.internal:9090/graph",
        "fingerprint": fingerprint,
    }


def main() -> None:
    prepare_environment("servicedesk_bench_monitoring")
    os.environ["CELERY_BROKER_URL"] = "memory://"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from contracts.models import Contract, ServiceTerms
    from sla.models import Alert, Outage
    from tests.factories import ContractFactory, CustomerFactory

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE sla_alert, sla_outage CASCADE")
    dstny = ServiceTerms.objects.get(slug="dstny-alcom-2022")
    while Contract.objects.count() < ALERTS:
        ContractFactory(customer=CustomerFactory(), terms=dstny)
    contracts = list(Contract.objects.order_by("pk").values_list("pk", flat=True)[:ALERTS])
    user, _ = get_user_model().objects.get_or_create(username="bench-alertmanager")
    user.user_permissions.add(Permission.objects.get(codename="report_alerts"))
    key = Token.objects.get_or_create(user=user)[0].key
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    starts = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    payload = body([alert(f"bench-{pk}", pk, starts) for pk in contracts])

    def post(data: bytes) -> float:
        began = time.perf_counter()
        response = client.post("/api/monitoring/alertmanager/", data, content_type="application/json")
        elapsed = time.perf_counter() - began
        assert response.status_code == 200, response.content
        return elapsed

    first = post(payload)
    again = post(payload)
    print(f"monitoring: PostgreSQL, Python {sys.version.split()[0]}, one process, Django's test client")
    print(f"  one webhook call of {ALERTS} new alerts: {first:.2f} s ({ALERTS / first:,.0f} alerts/s)")
    print(f"  the same call again (every alert known, nothing changes): {again:.2f} s")
    assert Outage.objects.count() == ALERTS

    one = body([alert("bench-repeated", contracts[0], starts)])
    timings = [post(one) for _ in range(REPEATS)]
    total = sum(timings)
    timings.sort()
    print(
        f"  {REPEATS:,} notifications of one alert: {total:.1f} s, {REPEATS / total:,.0f}/s, "
        f"p50 {statistics.median(timings) * 1000:.1f} ms, p95 {timings[int(len(timings) * 0.95) - 1] * 1000:.1f} ms"
    )
    repeated = Outage.objects.filter(external_id="bench-repeated")
    print(
        f"  outages of the repeated alert: {repeated.count()}; its notifications counted: "
        f"{Alert.objects.get(fingerprint='bench-repeated').notifications:,}"
    )
    assert repeated.count() == 1


if __name__ == "__main__":
    main()
