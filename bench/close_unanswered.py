"""The D §16.7 closing job over 1,000,000 tickets of which 100,000 are overdue, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/close_unanswered.py

Uses its own database `servicedesk_bench_close` (filled once, reused). Each run first puts
100,000 closed tickets back into "waiting for the customer" with a deadline in the past, then
times `close_unanswered` (locks, history, customer message, closing notification per ticket),
then a run with nothing due, and prints the plan of the query that finds due tickets.
"""

import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tickets_list import backend_cpu, fill, prepare_environment, size

TICKETS = size(1_000_000, 1_000)
OVERDUE = int(os.environ.get("OVERDUE", size(100_000, 100)))


def main() -> None:
    prepare_environment("servicedesk_bench_close")
    os.environ["CELERY_BROKER_URL"] = "memory://"  # measure the database work, not a broker
    import django

    django.setup()
    import resource

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from tickets import services
    from tickets.models import Message, Notification, Ticket, TicketEvent

    call_command("migrate", verbosity=0)
    fill(TICKETS, size(5_000, 50))
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE tickets_ticket SET status = 'waiting_for_customer', close_reason = NULL,
                   closed_at = NULL, customer_reply_due = now() - interval '1 hour' * (id %% 500 + 1)
               WHERE id %% %s = 0""",
            [TICKETS // OVERDUE],
        )
        print(f"{cursor.rowcount:,} tickets waiting with their reply deadline passed.")
        cursor.execute("DELETE FROM tickets_notification")
        cursor.execute("VACUUM ANALYZE tickets_ticket")
    events, messages = TicketEvent.objects.count(), Message.objects.count()

    query = Ticket.objects.filter(status="waiting_for_customer", customer_reply_due__lte=timezone.now())
    with transaction.atomic():
        claim = query.select_for_update(skip_locked=True).order_by("customer_reply_due").values("pk")[:500]
        sql, params = claim.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        print("plan of the claim query, with the overdue tickets waiting:")
        for (line,) in cursor.fetchall():
            print("  " + line)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    began, cpu, backend_began = time.perf_counter(), time.process_time(), backend_cpu(backend)
    if os.environ.get("PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        closed = profiler.runcall(services.close_unanswered)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    else:
        closed = services.close_unanswered()
    elapsed = time.perf_counter() - began
    cpu, backend_used = time.process_time() - cpu, backend_cpu(backend) - backend_began
    print(f"close_unanswered: closed {closed:,} in {elapsed:.1f} s ({closed / elapsed:,.0f} per second)")
    print(
        f"  CPU: this process {cpu:.1f} s, its PostgreSQL backend {backend_used:.1f} s "
        f"({closed / (cpu + backend_used):,.0f} tickets per CPU second; load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"  wrote {TicketEvent.objects.count() - events:,} history entries, "
        f"{Message.objects.count() - messages:,} messages, {Notification.objects.count():,} notifications"
    )

    def empty_runs(label: str) -> None:
        timings = []
        for _ in range(20):
            began = time.perf_counter()
            assert services.close_unanswered() == 0
            timings.append((time.perf_counter() - began) * 1000)
        timings.sort()
        print(f"a run with nothing due, {label}: median {timings[10]:.2f} ms, max {timings[-1]:.2f} ms (20 runs)")

    empty_runs("right after (100,000 dead index entries)")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticket")
    empty_runs("after VACUUM (autovacuum's steady state)")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickets_notification")
        cursor.execute("DELETE FROM tickets_message")
        cursor.execute("DELETE FROM tickets_ticketevent")


if __name__ == "__main__":
    main()
