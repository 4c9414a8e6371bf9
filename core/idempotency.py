"""Requests that must not do their work twice: a client that retries after a timeout, a double
click, a reload after posting a form.

The API takes an `Idempotency-Key` header on its create operations (as in the IETF draft "The
Idempotency-Key HTTP Header Field"): the first request with a key does the work and its answer
is kept `IDEMPOTENCY_HOURS` for that user; the same key with the same method, path and body
answers that kept answer again (header `Idempotent-Replayed: true`), with anything else 422.
Two requests with one key at the same moment: the second waits for the first and gets its
answer. A request that fails keeps nothing, so it may be retried with the same key.

Forms carry a one-time token (`FORM_TOKEN_FIELD`) that works the same way, see `once`.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from core.db import insert_unless_taken
from core.models import IdempotentRequest

HEADER = "Idempotency-Key"
FORM_TOKEN_FIELD = "once"
MAX_KEY_LENGTH = 255


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


def fingerprint(*parts) -> str:
    text = json.dumps(parts, sort_keys=True, cls=JSONEncoder, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def forget_before() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=settings.IDEMPOTENCY_HOURS)


@dataclass(frozen=True)
class Earlier:
    """The answer kept for a key; `same` when this request is the one that got it."""

    status_code: int
    body: str
    same: bool


def once(user, key: str, request_fingerprint: str, work: Callable[[], tuple[int, str, object]]):
    """Do `work` once per (user, key): it returns (status code to keep, body to keep, result).
    Answers ("new", result) the first time, ("earlier", Earlier) after. A `work` that raises
    keeps nothing."""
    with transaction.atomic():
        record = _take(user, key, request_fingerprint)
        if isinstance(record, Earlier):
            return "earlier", record
        code, body, result = work()
        if 200 <= code < 300 or 300 <= code < 400:
            record.status_code, record.body = code, body
            record.save(update_fields=["status_code", "body"])
        else:
            record.delete()
        return "new", result


def _take(user, key: str, request_fingerprint: str) -> IdempotentRequest | Earlier:
    """The key's new record, or the answer kept for it. A key kept past its hours is forgotten
    when it comes again, rather than looked for before every new key (a statement per request)."""
    for _attempt in range(3):
        record = IdempotentRequest(user=user, key=key, fingerprint=request_fingerprint, status_code=0)
        if insert_unless_taken(record, "user", "key"):
            return record
        # Another request with this key committed first (we waited for it on the unique index).
        kept = IdempotentRequest.objects.filter(user=user, key=key).first()
        if kept is not None and kept.created_at >= forget_before():
            return Earlier(kept.status_code, kept.body, kept.fingerprint == request_fingerprint)
        if kept is not None:
            IdempotentRequest.objects.filter(pk=kept.pk).delete()
    raise IntegrityError(f"The Idempotency-Key {key!r} could not be taken.")


def check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("\x21" <= char <= "\x7e" for char in key):
        raise ValidationError(
            {
                HEADER: [
                    _("An Idempotency-Key is 1 to %(most)d visible ASCII characters (no spaces).")
                    % {"most": MAX_KEY_LENGTH}
                ]
            }
        )


def idempotent(create):
    """A DRF create method that honours the `Idempotency-Key` header."""

    @functools.wraps(create)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return create(view, request, *args, **kwargs)
        check_key(key)

        def work():
            response = create(view, request, *args, **kwargs)
            return response.status_code, json.dumps(response.data, cls=JSONEncoder), response

        outcome, result = once(request.user, key, fingerprint(request.method, request.path, request.data), work)
        if outcome == "new":
            return result
        if not result.same:
            raise KeyReused(
                _("This Idempotency-Key was already used for a different request. Use a new key for a new request.")
            )
        return Response(json.loads(result.body), status=result.status_code, headers={"Idempotent-Replayed": "true"})

    setattr(wrapper, "idempotent", True)  # what is_idempotent reads (a function's attribute mypy does not model)
    return wrapper


def form_token() -> str:
    return secrets.token_urlsafe(24)


def form_fingerprint(request) -> str:
    """What a posted form says: its fields but the tokens, and its files by name and size."""
    fields = {
        name: values for name, values in request.POST.lists() if name not in ("csrfmiddlewaretoken", FORM_TOKEN_FIELD)
    }
    files = {name: [(upload.name, upload.size) for upload in uploads] for name, uploads in request.FILES.lists()}
    return fingerprint(request.method, request.path, fields, files)


def is_idempotent(view) -> bool:
    return getattr(getattr(view, getattr(view, "action", None) or "", None), "idempotent", False)


def forget_old() -> int:
    """Drop the keys older than `IDEMPOTENCY_HOURS` (daily, from beat)."""
    deleted, _kinds = IdempotentRequest.objects.filter(created_at__lt=forget_before()).delete()
    return deleted
