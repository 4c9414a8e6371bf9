"""Handing work to the Celery workers from a request, without the broker holding the request up.

Nearly everything handed over this way is also in the database (a notification row, a notice,
a stale report), and a beat sweep finds it there: a broker that is down only delays the work.
So a failed hand-over is logged and answered False, not raised (work no sweep finds, such as a
month stored on request, says so to the person who asked), and after one failure this process
stops trying for `BROKER_PAUSE_AFTER_FAILURE` seconds: a Redis that hangs costs one request its
socket timeout, not every request.
"""

from __future__ import annotations

import logging
import time

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)
_paused_until = 0.0


def hand_over(task_name: str, *args, waiting: str) -> bool:
    """Queue the task registered as `task_name` with `args` (named, not imported: the service
    that hands work over never imports the tasks that call services); False when the broker did
    not take it (`waiting` says what now waits for the sweep, for the log)."""
    global _paused_until
    now = time.monotonic()
    if now < _paused_until:
        logger.info("Broker paused after a failure: %s waits for the sweep", waiting)
        return False
    try:
        current_app.tasks[task_name].delay(*args)
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the work for the sweep
        _paused_until = time.monotonic() + settings.BROKER_PAUSE_AFTER_FAILURE
        logger.warning("Broker unavailable (%s): %s waits for the sweep", error, waiting)
        return False
    return True


def resume() -> None:
    """Try the broker again with the next hand-over."""
    global _paused_until
    _paused_until = 0.0
