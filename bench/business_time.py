"""Throughput of business-time deadlines (D §16.8) on one core.

    .venv/bin/python bench/business_time.py [--n 200000] [--repeat 3]

For each calendar: `service_start_due(received_at, 4)` over N random report instants spread
over 1990–2100, first with cold caches (a new calendar, no holiday year built yet), then warm
(the same instants again, best of --repeat runs), then warm with Decimal hours as the terms
store them; and `business_time_between` over spans of up to three days and up to a month.
The target is at least 100,000 deadlines per second; the warm figure is the headline, since
a service desk process keeps its calendars and fills each day once.
"""

import argparse
import datetime
import importlib.util
import pathlib
import platform
import random
import time
from decimal import Decimal

# The module is plain Python (standard library and `holidays`), so it is loaded from its file:
# the benchmark then runs as `python bench/business_time.py` from anywhere, without Django and
# without the project on the import path.
_PATH = pathlib.Path(__file__).resolve().parent.parent / "contracts" / "business_time.py"
_spec = importlib.util.spec_from_file_location("business_time", _PATH)
business_time = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(business_time)

TARGET = 100_000
UTC = datetime.timezone.utc

CALENDARS = {
    "Dstny (Åland, weekdays 08:30–17:00)": dict(
        timezone="Europe/Mariehamn",
        support_days="holiday_free_weekdays",
        opens_minute=8 * 60 + 30,
        closes_minute=17 * 60,
        holiday_country="FI",
        holiday_subdivision="01",
    ),
    "Telia (Sweden, all days 00:00–24:00)": dict(
        timezone="Europe/Stockholm",
        support_days="all_days",
        opens_minute=0,
        closes_minute=24 * 60,
        holiday_country="SE",
        holiday_categories=("public", "de_facto"),
    ),
}


def random_instants(n: int, seed: int) -> list[datetime.datetime]:
    rnd = random.Random(seed)
    first = datetime.datetime(1990, 1, 1, tzinfo=UTC)
    span_us = (datetime.datetime(2101, 1, 1, tzinfo=UTC) - first) // datetime.timedelta(microseconds=1)
    return [first + datetime.timedelta(microseconds=rnd.randrange(span_us)) for _ in range(n)]


def deadlines_per_second(calendar, instants, hours) -> float:
    due = calendar.service_start_due
    began = time.perf_counter()
    for received in instants:
        due(received, hours)
    return len(instants) / (time.perf_counter() - began)


def between_per_second(calendar, pairs) -> float:
    between = calendar.business_time_between
    began = time.perf_counter()
    for start, end in pairs:
        between(start, end)
    return len(pairs) / (time.perf_counter() - began)


def spans(instants, max_span: datetime.timedelta, seed: int):
    rnd = random.Random(seed)
    max_us = max_span // datetime.timedelta(microseconds=1)
    return [(t, t + datetime.timedelta(microseconds=rnd.randrange(max_us))) for t in instants]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="instants per run")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs; the best counts")
    args = parser.parse_args()

    instants = random_instants(args.n, seed=20261123)
    short = spans(instants, datetime.timedelta(days=3), seed=1)
    month = spans(instants[: args.n // 4], datetime.timedelta(days=31), seed=2)
    print(f"business_time: {args.n:,} random report instants (UTC, to the microsecond) over 1990–2100")
    print(f"Python {platform.python_version()}, one process on one core; calls per second\n")

    header = f"{'calendar':38} {'cold':>10} {'warm':>10} {'warm Dec':>10} {'btw 3 d':>10} {'btw 31 d':>10}"
    print(header)
    print("-" * len(header))
    results = {}
    for name, params in CALENDARS.items():
        # Cold: every module-wide and per-calendar cache empty.
        business_time._HOLIDAY_YEARS.clear()
        calendar = business_time.BusinessCalendar(**params)
        cold = deadlines_per_second(calendar, instants, 4)
        warm = max(deadlines_per_second(calendar, instants, 4) for _ in range(args.repeat))
        warm_decimal = max(deadlines_per_second(calendar, instants, Decimal("4")) for _ in range(args.repeat))
        btw_short = max(between_per_second(calendar, short) for _ in range(args.repeat))
        btw_month = max(between_per_second(calendar, month) for _ in range(args.repeat))
        results[name] = (cold, warm)
        print(f"{name:38} {cold:10,.0f} {warm:10,.0f} {warm_decimal:10,.0f} {btw_short:10,.0f} {btw_month:10,.0f}")

    print(
        "\ncold: new calendar and empty holiday cache, first pass (fills about 40,000 days and 111"
        "\n      holiday years); warm: the same instants again, best of"
        f' {args.repeat}; warm Dec: hours as Decimal("4");'
        "\nbtw 3 d / 31 d: business_time_between over random spans of up to 3 / 31 days (warm).\n"
    )
    print(f"Summary (service_start_due, target {TARGET:,}/s; warm is the headline):")
    for name, (cold, warm) in results.items():
        verdict = "meets" if warm >= TARGET else "BELOW"
        note = "" if cold >= TARGET else f"; cold {cold:,.0f}/s is below the target (first use of each day)"
        print(f"  {name}: warm {warm:,.0f}/s {verdict} the target{note}")


if __name__ == "__main__":
    main()
