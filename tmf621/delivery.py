"""Delivering events to listeners: at least once, signed, retried with backoff.

Each POST carries the event id (`eventId` in the body, `X-Event-Id` header) so a receiver can
drop a repeat, and `X-Signature: sha256=<hex HMAC-SHA256 of the body with the listener's
secret>` so it knows the body came from us. A failed attempt is tried again after 30 s, 1 min,
2 min, … up to an hour; a listener that fails `TMF621_LISTENER_MAX_FAILURES` times in a row is
disabled (the admin lists it) and its events wait until staff enable it again."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import uuid
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from tmf621 import events, hub
from tmf621.models import Event, Listener

FIRST_RETRY = datetime.timedelta(seconds=30)
LONGEST_WAIT = datetime.timedelta(hours=1)
# A fresh event is still on its way through the broker for this long: the sweep leaves it.
SWEEP_GRACE = datetime.timedelta(minutes=1)
SWEEP_BATCH = 200
# Delivered events are kept this long for staff to look into, then deleted: their payloads copy
# the ticket's personal data (numbers, notes), which retention removes from the ticket itself.
KEEP_DELIVERED = datetime.timedelta(days=30)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> datetime.timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


class _PinnedHost(HTTPAdapter):
    """Connects to the address the URL names (one the hub checked) while TLS names the callback's
    host (SNI) and checks the server's certificate against that host name, not the address."""

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        # urllib3 drops both for plain http pools.
        super().init_poolmanager(*args, server_hostname=self.hostname, assert_hostname=self.hostname, **kwargs)


# A host with more addresses than this that all refuse waits for the next retry.
ADDRESSES_TRIED = 3


def _not_connected(failure: requests.ConnectionError) -> bool:
    """The address took no connection (refused, unreachable, no answer in time): nothing was sent."""
    if isinstance(failure, requests.ConnectTimeout):
        return True
    reason = getattr(failure.args[0], "reason", None) if failure.args else None
    return isinstance(reason, NewConnectionError)


def _at(parts: SplitResult, address: str) -> str:
    """The callback's URL with its host replaced by `address` (the port and path kept)."""
    host = f"[{address}]" if ":" in address else address
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))


def _post(listener: Listener, event: Event) -> str:
    """The error, or "" when the listener took the event (any 2xx). The host is resolved once,
    checked, and connected to by that address (hub.addresses): no second look-up can send the
    POST elsewhere."""
    try:
        found = hub.addresses(listener.callback)
    except hub.Unreachable as error:
        return str(error)
    parts = urlsplit(listener.callback)
    hostname = (parts.hostname or "").encode("idna").decode("ascii")  # addresses() resolved it: it is there
    named = f"[{hostname}]" if ":" in hostname else hostname  # an IPv6 literal keeps its brackets
    body = json.dumps(event.payload, separators=(",", ":")).encode()
    headers = {
        "Host": f"{named}:{parts.port}" if parts.port else named,
        "Content-Type": "application/json",
        "X-Event-Id": str(event.pk),
        "X-Signature": signature(listener.secret, body),
    }
    auth = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
    refused = ""
    with requests.Session() as session:
        # No proxy from the environment: a proxy would look the name up again. The certificate
        # store is still the one REQUESTS_CA_BUNDLE names, as for any other use of requests.
        session.trust_env = False
        session.mount("http://", _PinnedHost(hostname))
        session.mount("https://", _PinnedHost(hostname))
        for address in found[:ADDRESSES_TRIED]:
            try:
                response = session.post(
                    _at(parts, address),
                    data=body,
                    headers=headers,
                    auth=auth,
                    timeout=settings.TMF621_CALLBACK_TIMEOUT,
                    allow_redirects=False,
                    verify=os.environ.get("REQUESTS_CA_BUNDLE") or True,
                )
            except requests.ConnectionError as failure:
                if not _not_connected(failure):
                    return f"{type(failure).__name__}: {failure}"[:1000]  # perhaps sent: the retry sends it again
                refused = f"{type(failure).__name__}: {failure}"[:1000]
                continue  # nothing was sent to this address: the host's next one
            except requests.RequestException as failure:
                return f"{type(failure).__name__}: {failure}"[:1000]
            return "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return refused


def deliver(event_id: uuid.UUID | str, now: datetime.datetime | None = None) -> bool:
    """One attempt at one event. True when this call delivered it; False when it failed, was
    delivered already, is not due, or another worker has it now."""
    now = now or timezone.now()
    with transaction.atomic():
        event = (
            Event.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("listener__owner")
            .filter(
                pk=event_id, delivered_at__isnull=True, listener__disabled_at__isnull=True, next_attempt_at__lte=now
            )
            .first()
        )
        if event is None or (event.payload is None and not events.build(event)):
            return False
        listener = event.listener
        error = _post(listener, event)
        if not error:
            event.delivered_at, event.last_error = now, ""
            event.save(update_fields=["delivered_at", "last_error"])
            Listener.objects.filter(pk=listener.pk).update(failures=0, last_error="")
            return True
        event.attempts += 1
        event.last_error, event.next_attempt_at = error, now + backoff(event.attempts)
        event.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        Listener.objects.filter(pk=listener.pk).update(failures=F("failures") + 1, last_error=error)
        Listener.objects.filter(
            pk=listener.pk, disabled_at__isnull=True, failures__gte=settings.TMF621_LISTENER_MAX_FAILURES
        ).update(disabled_at=now)
    return False


def deliver_due(now: datetime.datetime | None = None) -> int:
    """The sweep: events the broker never delivered, and retries whose time has come, oldest
    first. Returns how many were delivered."""
    now = now or timezone.now()
    due = (
        Event.objects.filter(delivered_at__isnull=True, listener__disabled_at__isnull=True, next_attempt_at__lte=now)
        .exclude(attempts=0, created_at__gt=now - SWEEP_GRACE)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return sum(deliver(pk, now=now) for pk in list(due))


def forget_delivered(now: datetime.datetime | None = None) -> int:
    """Delete events delivered more than KEEP_DELIVERED ago. Returns how many."""
    now = now or timezone.now()
    return Event.objects.filter(delivered_at__lt=now - KEEP_DELIVERED).delete()[0]
