"""Time limits on the database, so that a PostgreSQL that stops answering (a stalled network, a
proxy that accepts and then holds, a stopped server) costs a request seconds and a clear 503,
not a hung worker.

- Connecting gives up after `DATABASE_CONNECT_TIMEOUT` seconds (libpq's connect_timeout, set in
  the settings for every process).
- A statement runs at most `DATABASE_STATEMENT_TIMEOUT` seconds in the web process and
  `DATABASE_WORKER_STATEMENT_TIMEOUT` in Celery workers and beat: PostgreSQL's statement_timeout,
  enforced by the server, which cancels the statement cleanly. Management commands (migrations,
  the demo data) have no limit.
- The server cannot cancel what it never received, nor send an answer that cannot reach us. So
  the connection itself (config/postgresql) waits for any answer (a statement's, a commit's, the
  health check's) at most a few seconds longer than the server's own limit, then closes and
  raises OperationalError: the web request gets the 503 with Retry-After of a refused database.
"""

from __future__ import annotations

import re

from django.conf import settings

# Past the server's own statement_timeout: the server's cancel (a clean error) comes first.
GRACE_SECONDS = 3.0
_deadline: float | None = None


def answer_deadline() -> float | None:
    """Seconds this process waits for any one answer from PostgreSQL; None: no limit."""
    return _deadline


def limit_statements(seconds: float) -> None:
    """From now on, this process's new PostgreSQL connections cancel statements running longer
    than `seconds` and wait for an answer at most `seconds` + GRACE_SECONDS (0: no limit). Called
    before the process opens its first connection."""
    global _deadline
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("postgresql"):
        return
    options = database.setdefault("OPTIONS", {})
    kept = re.sub(r"-c\s*statement_timeout=\S+", "", options.get("options", "")).strip()
    limit = f"-c statement_timeout={round(seconds * 1000)}" if seconds else ""
    options["options"] = f"{kept} {limit}".strip()
    _deadline = seconds + GRACE_SECONDS if seconds else None


def serve_web() -> None:
    limit_statements(settings.DATABASE_STATEMENT_TIMEOUT)
