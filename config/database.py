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
  the connection itself (config/postgresql) waits for answers (a statement's, a commit's, the
  health check's, a new connection's) at most a few seconds longer than the server's own limit,
  then closes and raises OperationalError: the web request gets the 503 with Retry-After of a
  refused database. In the web process that time is the request's, not each answer's: a
  health check that waited, then a reconnect, then the view's statements share one
  `DATABASE_STATEMENT_TIMEOUT` + GRACE_SECONDS from the request's start.
- After an answer that never came, the web process asks the database nothing for
  STALL_PAUSE_SECONDS: the requests queued behind the one that waited answer 503 at once
  instead of each waiting in turn. A refused connection pauses nothing (it costs no time).
- The kernel gives up on data the server never acknowledges after the same time
  (tcp_user_timeout), and keepalives notice a dead peer on an idle connection.
"""

from __future__ import annotations

import re
import threading
import time

from django.conf import settings
from django.core.signals import request_finished, request_started

# Past the server's own statement_timeout: the server's cancel (a clean error) comes first.
GRACE_SECONDS = 3.0
STALL_PAUSE_SECONDS = 5.0
_deadline: float | None = None
_per_request = False
_stalled_until = 0.0
_request = threading.local()


def answer_deadline() -> float | None:
    """Seconds this process waits for the next answer from PostgreSQL; None: no limit. In a web
    request: what is left of the request's time; 0 during the pause after a stall."""
    if _deadline is None:
        return None
    if not _per_request:
        return _deadline
    now = time.monotonic()
    if now < _stalled_until:
        return 0.0
    started = getattr(_request, "started", None)
    return _deadline if started is None else max(0.0, _deadline - (now - started))


def stalled() -> None:
    """An answer did not come in time: in the web process, ask nothing for a while."""
    global _stalled_until
    if _per_request:
        _stalled_until = time.monotonic() + STALL_PAUSE_SECONDS


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
    if _deadline is None:
        options.pop("tcp_user_timeout", None)
    else:
        options["tcp_user_timeout"] = round(_deadline * 1000)


def _start_request(**kwargs) -> None:
    _request.started = time.monotonic()


def _end_request(**kwargs) -> None:
    _request.started = None


def serve_web() -> None:
    """The web process: one time limit per request (see above)."""
    global _per_request
    limit_statements(settings.DATABASE_STATEMENT_TIMEOUT)
    _per_request = True
    request_started.connect(_start_request, dispatch_uid="database-request-deadline")
    request_finished.connect(_end_request, dispatch_uid="database-request-deadline-end")
