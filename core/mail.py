"""What every app's e-mail rows share: how long a worker's claim on one lasts."""

from __future__ import annotations

import datetime

from django.conf import settings


def claim_lease() -> datetime.timedelta:
    """A claim older than this is a worker killed mid-send (MAIL_CLAIM_LEASE_SECONDS)."""
    return datetime.timedelta(seconds=settings.MAIL_CLAIM_LEASE_SECONDS)
