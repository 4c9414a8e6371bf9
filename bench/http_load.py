"""HTTP under load: gunicorn (2 sync workers) on PostgreSQL with 1,000,000 tickets, driven by wrk.

    apt-get install wrk    # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/http_load.py [--duration 20] [--connections 8] [--workers 2]

Uses the database `servicedesk_bench` of `bench/tickets_list.py` (filled once with its SQL,
then reused) and adds a year of outages (November 2025 to October 2026) for the measured
contract: one a day, planned or not, and one service-wide a month. Then it starts gunicorn on a
free port of 127.0.0.1 with DEBUG off and the settings `bench.settings` (the project's, plus the
trivial view `/bench/trivial`, so that every request passes the same middleware), and runs
`wrk -t2 -c8 -d20s` against each endpoint after a 3-second warm-up:

- the trivial view, the ceiling of server, middleware and machine;
- the staff queue `/desk/` and one ticket's page `/desk/tickets/<number>/`, with a staff session;
- `/api/tickets/?page=1` and `?page=5000` with a staff token;
- `/api/contracts/<id>/availability/?month=2026-10` with the customer's token;
- `POST /api/tickets/`, a fault report by the customer's token; the acknowledgement is queued
  on Redis database 14 (`--broker`), which nobody consumes and which is flushed afterwards.

For each it prints requests per second, the 50th, 95th and 99th percentile of latency, the
responses that were not 2xx/3xx plus socket errors, p50 against the trivial view's, the largest
resident memory of a worker during the run, and the cores that other processes (not gunicorn,
PostgreSQL or wrk) kept busy meanwhile: the machine is small, and a test run beside the
benchmark halves its figures. Before each endpoint it waits up to `--quiet-wait` seconds for
the other processes to go quiet. After the POST run it checks that every 201 stored one ticket
and that no ticket number was given twice, then deletes the tickets it created.
"""

import argparse
import datetime
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tickets_list import fill, prepare_environment, size  # noqa: E402 - once sys.path has the project

OUTAGE_MARK = "http bench outage"
MONTH = "2026-10"
TARGET_RATIO = 3.0
TARGET_P95_MS = 150.0
TARGET_POST_RPS = 100.0
TARGET_WORKER_MB = 200.0

LUA = """
wrk.method = {method}
wrk.body = {body}
{headers}

local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {{}}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {{}}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      counts[code] = (counts[code] or 0) + n
    end
  end
  local parts = {{}}
  for code, n in pairs(counts) do
    parts[#parts + 1] = string.format('"%d": %d', code, n)
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"timeout": %d, "p50": %.0f, "p95": %.0f, "p99": %.0f, "max": %.0f, "statuses": {{%s}}}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    table.concat(parts, ", ")))
end
"""


def lua_string(value: str | None) -> str:
    return "nil" if value is None else json.dumps(value)


def write_script(directory: pathlib.Path, name: str, method: str, headers: dict, body: str | None) -> pathlib.Path:
    lines = "\n".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    path = directory / f"{name}.lua"
    path.write_text(LUA.format(method=lua_string(method), body=lua_string(body), headers=lines))
    return path


def fill_outages(contract) -> None:
    """A year for one contract: a supplier outage a day (a quarter of them planned, a fifth the
    customer's), and twelve service-wide ones."""
    from django.db import connection

    from sla.models import Outage

    if Outage.objects.filter(description__startswith=OUTAGE_MARK, contracts=contract).exists():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH own AS (
                INSERT INTO sla_outage (service_wide, started_at, ended_at, kind, responsibility,
                                        description, short_notice_terms, announced_via, confirmed_ticket_ids,
                                        confirmation_note, service, source, external_id, confirmed,
                                        discard_reason, created_at, updated_at)
                SELECT false,
                       timestamptz '2025-11-01 00:00+02' + (g * interval '1 day') + ((g * 137) %% 1440) * interval '1 minute',
                       timestamptz '2025-11-01 00:00+02' + (g * interval '1 day') + ((g * 137) %% 1440) * interval '1 minute'
                           + ((g %% 90) + 5) * interval '1 minute',
                       CASE WHEN g %% 4 = 0 THEN 'planned' ELSE 'unplanned' END,
                       CASE WHEN g %% 5 = 0 THEN 'customer' ELSE 'supplier' END,
                       %(mark)s || ' ' || g, '[]', '', '[]', '', %(service)s, 'staff', '', true, '', now(), now()
                FROM generate_series(0, 364) g
                RETURNING id
            )
            INSERT INTO sla_outage_contracts (outage_id, contract_id) SELECT id, %(contract)s FROM own;

            INSERT INTO sla_outage (service_wide, started_at, ended_at, kind, responsibility,
                                    description, short_notice_terms, announced_via, confirmed_ticket_ids,
                                        confirmation_note, service, source, external_id, confirmed,
                                        discard_reason, created_at, updated_at)
            SELECT true,
                   timestamptz '2025-11-15 10:00+02' + (g * interval '1 month'),
                   timestamptz '2025-11-15 10:00+02' + (g * interval '1 month') + interval '25 minutes',
                   'unplanned', 'supplier', %(mark)s || ' service-wide ' || g, '[]', '', '[]', '', %(service)s, 'staff', '', true, '', now(), now()
            FROM generate_series(0, 11) g;
            """,
            {"mark": OUTAGE_MARK, "contract": contract.pk, "service": contract.terms.slug},
        )
        cursor.execute("ANALYZE sla_outage")
        cursor.execute("ANALYZE sla_outage_contracts")
    print(f"Added a year of outages for contract {contract.pk}.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def memory_mb(pid: int, key: str) -> float:
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemorySampler(threading.Thread):
    """The largest resident set of any worker, sampled every 100 ms."""

    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master = master
        self.peak = 0.0
        self.running = True

    def run(self) -> None:
        while self.running:
            for pid in children(self.master):
                self.peak = max(self.peak, memory_mb(pid, "VmRSS"))
            time.sleep(0.1)

    def stop(self) -> float:
        self.running = False
        self.join()
        return self.peak


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks() -> dict[int, tuple[str, int]]:
    """Each process's name and the CPU time it has used, in clock ticks."""
    result = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            result[int(entry.name)] = (name, int(fields[11]) + int(fields[12]))
    return result


def other_cores(before: dict, after: dict, ours: set[int], seconds: float) -> float:
    """Cores kept busy by processes other than the server, its database and wrk."""
    used = 0
    for pid, (name, ticks) in after.items():
        if pid in ours or name in ("wrk", "postgres"):
            continue
        used += ticks - before.get(pid, (name, 0))[1]
    return used / TICKS / seconds


def wait_for_quiet(ours: set[int], limit: float) -> None:
    """Up to `limit` seconds for other processes to leave the cores (nearly) idle."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_ticks()
        time.sleep(1)
        if other_cores(before, cpu_ticks(), ours, 1) < 0.2:
            return


def wait_until_up(base: str, server: subprocess.Popen, workers: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited; see its log above.")
        try:
            with urllib.request.urlopen(f"{base}/bench/trivial", timeout=2) as response:
                if response.status == 200 and len(children(server.pid)) >= workers:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer at {base} within {timeout:.0f} s.")


def run_wrk(args, base: str, path: str, script: pathlib.Path, duration: int) -> dict:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base + path,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["statuses"] = {int(k): v for k, v in result["statuses"].items()}
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["socket_errors"] = result["connect"] + result["read"] + result["write"] + result["timeout"]
    result["bad"] = sum(n for code, n in result["statuses"].items() if not 200 <= code < 400)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=size(20, 2), help="seconds per endpoint")
    parser.add_argument("--warmup", type=int, default=size(3, 1), help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tickets", type=int, default=size(1_000_000, 1_000))
    parser.add_argument("--customers", type=int, default=size(5_000, 50))
    parser.add_argument("--deep-page", type=int, default=size(5000, 5))
    parser.add_argument(
        "--quiet-wait",
        type=int,
        default=size(60, 0),
        help="seconds to wait, before each endpoint, for other processes to go quiet",
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk).")

    prepare_environment()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "CELERY_BROKER_URL": args.broker,
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    import redis
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from contracts.models import Contract, CustomerMembership
    from tickets.models import Ticket

    call_command("migrate", verbosity=0)
    fill(args.tickets, args.customers)
    users = get_user_model().objects
    staff, _ = users.get_or_create(username="bench-staff", defaults={"is_staff": True})
    contract = Contract.objects.filter(terms__slug="dstny-alcom-2022").select_related("customer").order_by("id")[10]
    fill_outages(contract)
    customer_user, _ = users.get_or_create(username="bench-customer")
    CustomerMembership.objects.get_or_create(user=customer_user, defaults={"customer": contract.customer})
    staff_token = Token.objects.get_or_create(user=staff)[0].key
    customer_token = Token.objects.get_or_create(user=customer_user)[0].key
    client = Client()
    client.force_login(staff)
    session = client.cookies["sessionid"].value
    ticket_number = Ticket.objects.order_by("-id").values_list("number", flat=True)[size(1234, 123)]
    report = {
        "contract": contract.pk,
        "a_number": "+358 18 12345",
        "b_number": "070-123 45 67",
        "fault_occurred_at": (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)).isoformat(),
        "description": "Samtal bryts efter några sekunder (http bench).",
    }
    as_staff = {"Cookie": f"sessionid={session}"}
    staff_api = {"Authorization": f"Token {staff_token}"}
    customer_api = {"Authorization": f"Token {customer_token}"}
    endpoints = [
        ("trivial view (ceiling)", "GET", "/bench/trivial", {}, None),
        ("staff queue /desk/", "GET", "/desk/", as_staff, None),
        ("ticket page /desk/tickets/<n>/", "GET", f"/desk/tickets/{ticket_number}/", as_staff, None),
        ("API list ?page=1", "GET", "/api/tickets/?page=1", staff_api, None),
        (f"API list ?page={args.deep_page}", "GET", f"/api/tickets/?page={args.deep_page}", staff_api, None),
        (
            f"availability ?month={MONTH}",
            "GET",
            f"/api/contracts/{contract.pk}/availability/?month={MONTH}",
            customer_api,
            None,
        ),
        (
            "POST /api/tickets/ (fault report)",
            "POST",
            "/api/tickets/",
            {**customer_api, "Content-Type": "application/json"},
            json.dumps(report),
        ),
    ]
    connection.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="http-load-"))
    log = workdir / "gunicorn.log"
    server = None
    results = []
    created = stored_201 = duplicates = 0
    try:
        server = subprocess.Popen(
            [
                str(pathlib.Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--worker-class",
                "sync",
                "--chdir",
                str(ROOT),
                "--pythonpath",
                str(ROOT),
                "--log-level",
                "warning",
                "--error-logfile",
                str(log),
            ],
            cwd=ROOT,
            start_new_session=True,
        )
        wait_until_up(base, server, args.workers)
        workers = children(server.pid)
        print(
            f"\ngunicorn, {args.workers} sync workers; wrk -t{args.threads} -c{args.connections} "
            f"-d{args.duration}s per endpoint after {args.warmup} s of warm-up:\n"
        )
        ours = {os.getpid(), server.pid, *workers}
        for label, method, path, headers, body in endpoints:
            script = write_script(workdir, f"e{len(results)}", method, headers, body)
            wait_for_quiet(ours, args.quiet_wait)
            run_wrk(args, base, path, script, args.warmup)
            if method == "POST":
                time.sleep(1)
                before = Ticket.objects.filter(reported_by=customer_user).count()
            sampler = MemorySampler(server.pid)
            sampler.start()
            ticks = cpu_ticks()
            result = run_wrk(args, base, path, script, args.duration)
            result["others"] = other_cores(ticks, cpu_ticks(), ours, result["duration_us"] / 1e6)
            result["rss"] = sampler.stop()
            result.update(label=label, method=method)
            if method == "POST":
                time.sleep(1)
                created = Ticket.objects.filter(reported_by=customer_user).count() - before
                stored_201 = result["statuses"].get(201, 0)
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM (SELECT number FROM tickets_ticket GROUP BY 1 HAVING count(*) > 1) d"
                    )
                    duplicates = cursor.fetchone()[0]
            results.append(result)
            print(
                f"  {label}: {result['rps']:.0f} req/s, p50 {result['p50'] / 1000:.1f} ms, "
                f"statuses {result['statuses']}, other load {result['others']:.1f} cores"
            )
        peak = max(memory_mb(pid, "VmHWM") for pid in workers)
        if set(children(server.pid)) != set(workers):
            print("  (a worker was restarted during the run; see the gunicorn log)")
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        errors = log.read_text() if log.exists() else ""
        if "Traceback" in errors or "ERROR" in errors:
            print(f"\ngunicorn's log:\n{errors[-4000:]}")
        shutil.rmtree(workdir, ignore_errors=True)
        removed, _ = Ticket.objects.filter(reported_by=customer_user).delete()
        SessionStore(session_key=session).delete()
        redis.Redis.from_url(args.broker).flushdb()
        if removed:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE tickets_ticket")

    ceiling = results[0]["p50"]
    print(
        f"\n| request | req/s | p50 | p95 | p99 | errors | p50 / ceiling | worker RSS | other load (of {os.cpu_count()} cores) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for r in results:
        errors = r["bad"] + r["socket_errors"]
        print(
            f"| {r['label']} | {r['rps']:,.0f} | {r['p50'] / 1000:.1f} ms | {r['p95'] / 1000:.1f} ms "
            f"| {r['p99'] / 1000:.1f} ms | {errors} | {r['p50'] / ceiling:.1f}× | {r['rss']:.0f} MB | {r['others']:.1f} |"
        )
    print(f"\nPeak worker memory (VmHWM): {peak:.0f} MB")
    post = results[-1]
    server_errors = sum(n for code, n in post["statuses"].items() if code >= 500)
    print(
        f"POST: {stored_201:,} answered 201, {created:,} tickets stored (in-flight requests at the end "
        f"of the run may add up to {args.connections}), {server_errors} 5xx, {duplicates} duplicate ticket numbers"
    )

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    print("\nTargets:")
    for r in results[1:-1]:
        ratio = r["p50"] / ceiling
        print(
            f"  {r['label']}: p50 within {TARGET_RATIO:.0f}× the ceiling ({ratio:.1f}×) {verdict(ratio <= TARGET_RATIO)}; "
            f"p95 under {TARGET_P95_MS:.0f} ms ({r['p95'] / 1000:.0f} ms) {verdict(r['p95'] / 1000 < TARGET_P95_MS)}"
        )
    post_ok = post["rps"] > TARGET_POST_RPS and post["bad"] + post["socket_errors"] == 0
    print(f"  POST over {TARGET_POST_RPS:.0f}/s without errors ({post['rps']:.0f}/s) {verdict(post_ok)}")
    stored_ok = server_errors == 0 and duplicates == 0 and 0 <= created - stored_201 <= args.connections
    print(f"  every 201 stored one ticket, numbers unique {verdict(stored_ok)}")
    print(f"  workers under {TARGET_WORKER_MB:.0f} MB ({peak:.0f} MB) {verdict(peak < TARGET_WORKER_MB)}")


if __name__ == "__main__":
    main()
