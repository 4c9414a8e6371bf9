"""Throughput of business-time deadlines (D §16.8): calls per second on one core.

    .venv/bin/python bench/business_time.py [--n 200000]

Random report instants spread over 1990–2100; a cold run (each calendar's day cache empty, the
holiday years not yet built) and a warm run over the same instants.
"""

import argparse
import datetime
import pathlib
import random
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from contracts import business_time  # noqa: E402
from contracts.business_time import BusinessCalendar  # noqa: E402

CALENDARS = {
    "Dstny (Åland, 08:30–17:00, 4 h)": dict(
        timezone="Europe/Mariehamn",
        support_days="holiday_free_weekdays",
        opens_minute=510,
        closes_minute=1020,
        holiday_country="FI",
        holiday_subdivision="01",
    ),
    "Telia (Sweden, 24/7, 4 h)": dict(
        timezone="Europe/Stockholm",
        support_days="all_days",
        opens_minute=0,
        closes_minute=1440,
        holiday_country="SE",
        holiday_categories=("public", "de_facto"),
    ),
}


def instants(n: int) -> list[datetime.datetime]:
    rnd = random.Random(20261123)
    start = datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC)
    span = int((datetime.datetime(2100, 12, 31, tzinfo=datetime.UTC) - start).total_seconds())
    return [start + datetime.timedelta(seconds=rnd.randrange(span), microseconds=rnd.randrange(10**6)) for _ in range(n)]


def rate(fn, items) -> float:
    began = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    received = instants(args.n)
    pairs = list(zip(received, received[1:] + received[:1]))
    print(f"{args.n:,} random instants, 1990–2100, one core\n")
    print(f"{'calendar':34} {'cold /s':>12} {'warm /s':>12} {'between /s':>12}")
    for name, params in CALENDARS.items():
        business_time._holiday_years.clear()
        calendar = BusinessCalendar(**params)
        deadline = calendar.service_start_due
        cold = rate(lambda t: deadline(t, 4), received)
        warm = rate(lambda t: deadline(t, 4), received)
        short = [(a, a + datetime.timedelta(days=3)) for a, _b in pairs]
        between_fn = calendar.business_time_between
        between = rate(lambda ab: between_fn(*ab), short)
        print(f"{name:34} {cold:12,.0f} {warm:12,.0f} {between:12,.0f}")
    print("\nservice_start_due: target at least 100,000 per second.")
    print("between: business time over a 3-day span.")


if __name__ == "__main__":
    main()
