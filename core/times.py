"""Times as people read them on a page or in a mail."""

from __future__ import annotations

import datetime
import zoneinfo


def local_time(value: str | datetime.datetime | None, zone: str) -> str:
    """A time (or a stored UTC ISO text) local to `zone`, to the minute, with the zone's
    abbreviation (CET, EEST); "–" for none."""
    if value is None or value == "":
        return "–"
    moment = value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(value)
    local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
