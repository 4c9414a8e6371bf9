"""The cost of one fault report, ours beside django-helpdesk's public submit form, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/report_post.py [--requests 500] [--rounds 1] [--no-peer]

Ours runs in the database `servicedesk_bench_report` beside the one named: a customer with one
Dstny contract, a primary contact (the acknowledgement's second reader), a user of the customer
with an API token and a session. It times `--requests` fault reports of each kind through
Django's test client, after 20 warm-up requests:

- `POST /api/tickets/` with the customer's token (JSON), without and with an Idempotency-Key;
- the portal's report form `POST /portal/report/` with the customer's session, a new form token
  each time as a browser gets with each new form.

The acknowledgement is queued on Redis database 13 (`--broker`), which nobody consumes and which
is flushed afterwards; the tickets made are deleted afterwards.

The peer is django-helpdesk's public ticket submit form (`POST /helpdesk/tickets/submit/`, an
anonymous visitor: queue, summary, description, priority, e-mail address), in a virtualenv of its
own under `var/bench-helpdesk/` with django-helpdesk pinned below and the same Django and psycopg
as ours, with the minimal settings this script writes there and its own database
`servicedesk_bench_helpdesk`. This same file runs there with `--peer` and times it with the same
loop. django-helpdesk sends its mail to the submitter inside the request (to Django's in-memory
mail backend here); ours hands the acknowledgement to a worker.

For each kind it prints, per request, the wall time (p50, p95), the CPU of this process (p50,
p95, mean: middleware, view, forms, serialisers, templates, the database driver), the CPU of the
PostgreSQL backend serving it (its /proc counters over the whole run divided by the requests:
the kernel counts in 10 ms ticks) and the two together. Other work on the machine moves these
figures: `--rounds N` times ours and the peer's in turn N times and gives the median of each
round's ratio, which moves far less than either figure.
"""

import argparse
import gc
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tickets_list import SMOKE, backend_cpu, prepare_environment, size  # noqa: E402 - after the path

HELPDESK = "django-helpdesk==2.6.1"  # the newest release, which supports Django 5.2
PEER_DIR = ROOT / "var" / "bench-helpdesk"
PEER_PYTHON = PEER_DIR / "bin" / "python"
WARM_UP = 20


# The timing loop, the same for ours and the peer's --------------------------------------------


def measure(label: str, send, requests: int, backend_pid: int) -> dict:
    """`send()` makes one request and checks its answer; times `requests` of them."""
    for _ in range(WARM_UP):
        send()
    gc.collect()
    walls, cpus = [], []
    backend_before = backend_cpu(backend_pid)
    for _ in range(requests):
        wall, cpu = time.perf_counter(), time.process_time()
        send()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    backend = (backend_cpu(backend_pid) - backend_before) * 1000 / requests
    result = {
        "label": label,
        "wall_p50": statistics.median(walls),
        "wall_p95": percentile(walls, 95),
        "cpu_p50": statistics.median(cpus),
        "cpu_p95": percentile(cpus, 95),
        "cpu_mean": statistics.fmean(cpus),
        "pg_mean": backend,
    }
    result["total"] = result["cpu_mean"] + backend
    print(line(result), flush=True)
    return result


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * p / 100) - 1)]


def line(r: dict) -> str:
    return (
        f"{r['label']:44} wall {r['wall_p50']:6.1f} / {r['wall_p95']:6.1f} ms   "
        f"CPU {r['cpu_p50']:5.1f} / {r['cpu_p95']:5.1f} ms (mean {r['cpu_mean']:5.1f})   "
        f"PostgreSQL {r['pg_mean']:4.1f} ms   together {r['total']:5.1f} ms"
    )


HEADER = "per request: wall p50 / p95, CPU of the process p50 / p95 (mean), PostgreSQL backend CPU (mean)"


def pg_backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


# Ours -------------------------------------------------------------------------------------------


KINDS = [
    "ours: POST /api/tickets/ (token)",
    "ours: POST /api/tickets/, Idempotency-Key",
    "ours: portal report form (session)",
]


def ours(args, then_the_peer) -> list[list[dict]]:
    """Each round's results for KINDS, followed by what `then_the_peer()` gave after it."""
    os.environ["CELERY_BROKER_URL"] = args.broker
    prepare_environment("servicedesk_bench_report")
    import django

    django.setup()
    import datetime
    import zoneinfo

    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from contracts.models import ContactPerson, Contract, ContractFee, Customer, CustomerMembership, ServiceTerms
    from tickets.models import Ticket

    call_command("migrate", verbosity=0)
    customer, _ = Customer.objects.get_or_create(org_number="2923061-2", defaults={"name": "Bench report Ab"})
    contract = Contract.objects.filter(customer=customer).first()
    if contract is None:
        contract = Contract.objects.create(
            customer=customer,
            terms=ServiceTerms.objects.get(slug="dstny-alcom-2022"),
            signed_on=datetime.date(2025, 3, 1),
            delivered_on=datetime.date(2025, 4, 15),
        )
        ContractFee.objects.create(contract=contract, effective_from=contract.signed_on, monthly_fee=500)
        ContactPerson.objects.create(customer=customer, name="Anna", email="anna@bench.example", is_primary=True)
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(
        username="bench-reporter", defaults={"email": "reporter@bench.example"}
    )
    if created:
        CustomerMembership.objects.create(user=user, customer=customer)
    token, _ = Token.objects.get_or_create(user=user)
    before = Ticket.objects.filter(customer=customer).values_list("id", flat=True)
    known = set(before)

    moment = timezone.now() - datetime.timedelta(minutes=10)
    report = {
        "contract": contract.pk,
        "a_number": "018-123 45",
        "b_number": "+46 70 123 45 67",
        "fault_occurred_at": moment.isoformat(),
        "description": "Inkommande samtal till växeln bryts efter 3 sekunder.",
    }
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT_LANGUAGE="sv")
    portal = Client(HTTP_ACCEPT_LANGUAGE="sv")
    portal.force_login(user)
    local = moment.astimezone(zoneinfo.ZoneInfo(contract.terms.timezone))
    form = {
        "contract": contract.pk,
        "category": "fault",
        "a_number": report["a_number"],
        "b_number": report["b_number"],
        "fault_occurred_at": local.strftime("%Y-%m-%dT%H:%M"),
        "description": report["description"],
    }
    body = json.dumps(report)

    def api_report(headers):
        def send():
            response = api.post("/api/tickets/", body, content_type="application/json", **headers())
            assert response.status_code == 201, response.content[:500]

        return send

    def portal_report():
        response = portal.post("/portal/report/", {**form, "once": uuid.uuid4().hex})
        assert response.status_code == 302, response.content[:500]

    backend = pg_backend_pid()
    if args.profile:
        import cProfile
        import pstats

        kinds = [("API", api_report(dict)), ("portal", portal_report)]
        for _ in range(WARM_UP):
            for _kind, send in kinds:
                send()
        with cProfile.Profile(time.process_time) as profile:  # CPU, not waits on the database
            for _ in range(args.requests):
                for _kind, send in kinds:
                    send()
        profile.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(80)
        return []
    senders = [api_report(dict), api_report(lambda: {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}), portal_report]
    rounds = []
    try:
        for number in range(1, args.rounds + 1):
            print(
                f"\nOurs{f', round {number} of {args.rounds}' if args.rounds > 1 else ''}, {args.requests} fault "
                f"reports each, one client, after {WARM_UP} warm-up requests; {HEADER}:\n"
            )
            rounds.append([measure(label, send, args.requests, backend) for label, send in zip(KINDS, senders)])
            rounds[-1].extend(then_the_peer())
    finally:
        Ticket.objects.filter(customer=customer).exclude(id__in=known).delete()
        try:
            import redis

            redis.Redis.from_url(args.broker).flushdb()
        except Exception as error:  # noqa: BLE001 - only tidying up
            print(f"(Could not flush {args.broker}: {error})")
    return rounds


# The peer: django-helpdesk in its own virtualenv ------------------------------------------------

PEER_SETTINGS = '''"""Written by bench/report_post.py: django-helpdesk's public submit form, nothing more."""
import os
from urllib.parse import urlsplit

_url = urlsplit(os.environ["DATABASE_URL"])
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "",
        "PASSWORD": _url.password or "",
        "HOST": _url.hostname or "",
        "PORT": _url.port or "",
    }}
}}
SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
TIME_ZONE = "Europe/Stockholm"
LANGUAGE_CODE = "sv"
SITE_ID = 1
ROOT_URLCONF = "helpdesk_bench_urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {{
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        }},
    }}
]
STATIC_URL = "/static/"
MEDIA_ROOT = {media!r}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@bench.example"
HELPDESK_TEAMS_MODE_ENABLED = False
LOGIN_URL = "/helpdesk/login/"
'''

PEER_URLS = '''"""Written by bench/report_post.py."""
from django.urls import include, path

urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
'''


def peer_environment() -> bool:
    """The peer's virtualenv, made once and made again when the pins change: 20 s on an idle
    machine, over a minute on a busy one, so the smoke run uses it only when it is there."""
    import django
    import psycopg

    pins = [HELPDESK, f"Django=={django.__version__}", f"psycopg[binary]=={psycopg.__version__}"]
    stamp = PEER_DIR / "installed.txt"
    if stamp.exists() and stamp.read_text().split() == pins and PEER_PYTHON.exists():
        return True
    if SMOKE:
        print(
            f"\nSkipping django-helpdesk in the smoke run: {PEER_DIR.relative_to(ROOT)} is not made (a full run makes it)."
        )
        return False
    began = time.perf_counter()
    print(f"Making {PEER_DIR.relative_to(ROOT)} with {', '.join(pins)} ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_DIR)], check=True)
        subprocess.run(
            [str(PEER_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
            check=True,
            stderr=subprocess.PIPE,
            text=True,
        )
    except subprocess.CalledProcessError as error:
        print(f"Skipping django-helpdesk: its virtualenv could not be made ({error}).\n{error.stderr or ''}")
        return False
    stamp.write_text("\n".join(pins))
    print(f"... in {time.perf_counter() - began:.0f} s.")
    return True


def run_peer(args) -> list[dict]:
    if not peer_environment():
        return []
    (PEER_DIR / "helpdesk_bench_settings.py").write_text(PEER_SETTINGS.format(media=str(PEER_DIR / "media")))
    (PEER_DIR / "helpdesk_bench_urls.py").write_text(PEER_URLS)
    command = [str(PEER_PYTHON), "-W", "ignore", __file__, "--peer", "--requests", str(args.requests)]
    environment = {**os.environ, "DATABASE_URL": args.database_url}
    done = subprocess.run(command, env=environment, stdout=subprocess.PIPE, text=True, check=True)
    results = []
    for text in done.stdout.splitlines():
        if text.startswith("RESULT "):
            results.append(json.loads(text.removeprefix("RESULT ")))
        else:
            print(text)
    return results


def peer(args) -> None:
    """In the peer's virtualenv: its public submit form, timed by the same loop."""
    prepare_environment("servicedesk_bench_helpdesk")
    sys.path.insert(0, str(PEER_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpdesk_bench_settings"
    import django

    django.setup()
    from django.core import mail
    from django.core.management import call_command
    from django.test import Client
    from helpdesk.models import Queue, Ticket

    call_command("migrate", verbosity=0)
    queue, _ = Queue.objects.get_or_create(
        slug="support",
        defaults={"title": "Support", "allow_public_submission": True, "email_address": "support@bench.example"},
    )
    known = set(Ticket.objects.values_list("id", flat=True))
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    form = {
        "queue": queue.pk,
        "title": "Samtal bryts",
        "body": "Inkommande samtal till växeln bryts efter 3 sekunder. A-nummer 018-123 45, B-nummer 070-123 45 67.",
        "priority": 3,
        "submitter_email": "anna@bench.example",
    }

    def submit():
        response = client.post("/helpdesk/tickets/submit/", form)
        assert response.status_code == 302, response.content[:2000]
        mail.outbox.clear()

    print(f"\ndjango-helpdesk {HELPDESK.partition('==')[2]}, the same loop; {HEADER}:\n")
    result = measure("django-helpdesk: public submit form", submit, args.requests, pg_backend_pid())
    Ticket.objects.exclude(id__in=known).delete()
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=size(500, 5))
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--no-peer", action="store_true", help="time ours only")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="time ours and the peer's this many times in turn; prints the median ratio",
    )
    parser.add_argument("--profile", metavar="FILE", help="ours only, under cProfile, its statistics written to FILE")
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)  # inside the peer's virtualenv
    args = parser.parse_args()
    args.database_url = os.environ.get("DATABASE_URL", "")
    if args.peer:
        peer(args)
        return
    rounds = ours(args, lambda: [] if args.no_peer else run_peer(args))
    compare([results for results in rounds if len(results) > len(KINDS)])
    if SMOKE:
        print("\n(smoke run: the figures mean nothing)")


def compare(rounds: list[list[dict]]) -> None:
    """Ours against the peer's form of the same round; over several rounds, the medians."""
    if not rounds:
        return
    several = len(rounds) > 1
    print(
        "\nCPU per request, this process and PostgreSQL together, against django-helpdesk's form"
        + (f" of the same round (the median of {len(rounds)} rounds):\n" if several else ":\n")
    )
    for kind, label in enumerate(KINDS):
        ours, theirs = [r[kind]["total"] for r in rounds], [r[-1]["total"] for r in rounds]
        ratios = [mine / peer for mine, peer in zip(ours, theirs)]
        each = f"   (rounds: {', '.join(f'{ratio:.2f}' for ratio in ratios)})" if several else ""
        print(
            f"{label:44} {statistics.median(ours):5.1f} ms   {statistics.median(ratios):4.2f}× "
            f"django-helpdesk's {statistics.median(theirs):.1f} ms{each}"
        )


if __name__ == "__main__":
    main()
