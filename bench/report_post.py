"""The cost of one fault report, ours beside django-helpdesk's public submit form, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/report_post.py [--requests 500] [--rounds N] [--no-peer]

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
the kernel counts in 10 ms ticks) and the two together.

Other work on the machine moves these figures by a fifth between two runs. `--rounds N` instead
times blocks of `--requests` requests, ours and the peer's in turn (the peer's process kept
running beside), N blocks of each kind, and gives each side's CPU per request over all its
blocks and their ratio: a neighbour's load falls on both alike. E.g. `--rounds 20 --requests 50`.
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


def block(send, requests: int, backend_pid: int) -> dict:
    """CPU of `requests` requests in a row: this process's and the PostgreSQL backend's, in ms."""
    backend, cpu = backend_cpu(backend_pid), time.process_time()
    for _ in range(requests):
        send()
    return {"cpu": (time.process_time() - cpu) * 1000, "pg": (backend_cpu(backend_pid) - backend) * 1000}


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


def ours(args, then_the_peer):
    """With one round, `measure`'s results for KINDS. With several, for each kind the blocks of
    `--requests` requests in turn with the peer's: (ours, then_the_peer(requests)) in each."""
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
    try:
        if args.rounds == 1:
            print(
                f"\nOurs, {args.requests} fault reports each, one client, after {WARM_UP} warm-up requests; {HEADER}:\n"
            )
            return [[measure(label, send, args.requests, backend) for label, send in zip(KINDS, senders)]]
        for send in senders:
            for _ in range(WARM_UP):
                send()
        blocks: list[list[tuple[dict, dict | None]]] = [[] for _ in KINDS]
        for _round in range(args.rounds):
            for kind, send in enumerate(senders):
                gc.collect()
                mine = block(send, args.requests, backend)
                blocks[kind].append((mine, then_the_peer(args.requests)))
        return blocks
    finally:
        Ticket.objects.filter(customer=customer).exclude(id__in=known).delete()
        try:
            import redis

            redis.Redis.from_url(args.broker).flushdb()
        except Exception as error:  # noqa: BLE001 - only tidying up
            print(f"(Could not flush {args.broker}: {error})")


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


def prepare_peer() -> bool:
    if not peer_environment():
        return False
    (PEER_DIR / "helpdesk_bench_settings.py").write_text(PEER_SETTINGS.format(media=str(PEER_DIR / "media")))
    (PEER_DIR / "helpdesk_bench_urls.py").write_text(PEER_URLS)
    return True


def run_peer(args) -> list[dict]:
    if not prepare_peer():
        return []
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


class ServedPeer:
    """The peer's process, kept running and told how many requests to time each time."""

    def __init__(self, args):
        command = [str(PEER_PYTHON), "-W", "ignore", __file__, "--peer", "--serve"]
        environment = {**os.environ, "DATABASE_URL": args.database_url}
        self.process = subprocess.Popen(
            command, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._read()  # READY

    def __call__(self, requests: int) -> dict:
        self.process.stdin.write(f"{requests}\n")
        self.process.stdin.flush()
        return json.loads(self._read().removeprefix("RESULT "))

    def _read(self) -> str:
        for text in self.process.stdout:
            if text.startswith(("READY", "RESULT ")):
                return text.strip()
            print(text, end="")
        raise RuntimeError("django-helpdesk's process ended")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


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

    try:
        if not args.serve:
            print(f"\ndjango-helpdesk {HELPDESK.partition('==')[2]}, the same loop; {HEADER}:\n")
            result = measure("django-helpdesk: public submit form", submit, args.requests, pg_backend_pid())
            print("RESULT " + json.dumps(result))
            return
        for _ in range(WARM_UP):
            submit()
        backend = pg_backend_pid()
        print("READY", flush=True)
        for text in sys.stdin:  # a number of requests to time, until the input ends
            gc.collect()
            print("RESULT " + json.dumps(block(submit, int(text), backend)), flush=True)
    finally:
        Ticket.objects.exclude(id__in=known).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=size(500, 5))
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--no-peer", action="store_true", help="time ours only")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="time blocks of --requests, ours and the peer's in turn, this many of each kind",
    )
    parser.add_argument("--profile", metavar="FILE", help="ours only, under cProfile, its statistics written to FILE")
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)  # inside the peer's virtualenv
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the peer, timing what it is told
    args = parser.parse_args()
    args.database_url = os.environ.get("DATABASE_URL", "")
    if args.peer:
        peer(args)
        return
    if args.rounds == 1:
        results = ours(args, None)
        theirs = [] if args.no_peer or args.profile or not results else run_peer(args)
        if theirs:
            print("\nCPU per request, this process and PostgreSQL together, against django-helpdesk's form:\n")
            for result in results[0]:
                ratio = result["total"] / theirs[0]["total"]
                print(
                    f"{result['label']:44} {result['total']:5.1f} ms   {ratio:4.2f}× "
                    f"django-helpdesk's {theirs[0]['total']:.1f} ms"
                )
    else:
        served = None if args.no_peer or not prepare_peer() else ServedPeer(args)
        load = os.getloadavg()[0]
        try:
            blocks = ours(args, served or (lambda requests: None))
        finally:
            if served is not None:
                served.close()
        compare(blocks, args.requests, load)
    if SMOKE:
        print("\n(smoke run: the figures mean nothing)")


def compare(blocks: list[list[tuple[dict, dict | None]]], requests: int, load: float) -> None:
    """Per kind: ours and the peer's CPU per request over all their blocks, and the ratio."""
    print(
        f"\nCPU per request, this process + PostgreSQL, {len(blocks[0])} blocks of {requests} of each kind, each "
        f"followed by {requests} of django-helpdesk's form (load average {load:.1f} → {os.getloadavg()[0]:.1f}):\n"
    )
    for label, pairs in zip(KINDS, blocks):
        mine = sum(m["cpu"] + m["pg"] for m, _ in pairs) / (requests * len(pairs))
        line = f"{label:44} {mine:5.1f} ms ({sum(m['pg'] for m, _ in pairs) / (requests * len(pairs)):.1f} PostgreSQL)"
        theirs = [t for _, t in pairs if t is not None]
        if theirs:
            peer = sum(t["cpu"] + t["pg"] for t in theirs) / (requests * len(theirs))
            each = sorted((m["cpu"] + m["pg"]) / (t["cpu"] + t["pg"]) for m, t in pairs if t is not None)
            line += (
                f"   {mine / peer:4.2f}× django-helpdesk's {peer:.1f} ms "
                f"(blocks: {each[0]:.2f}–{each[-1]:.2f}, median {statistics.median(each):.2f})"
            )
        print(line)


if __name__ == "__main__":
    main()
