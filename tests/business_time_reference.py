"""A slow, obviously correct model of business time, to check contracts.business_time against.

It shares no code with the module. It walks real time one whole minute at a time and asks of
each minute: does the local wall clock, at the start of that minute, show a time inside the
support hours of a support day? Support hours start and end on whole minutes and the zones
used change their offset only on whole minutes, so a minute is either wholly business time or
not at all. (Only where an opening or closing falls inside a daylight-saving gap would this
model differ from the module, which opens at the end of the gap; the tests avoid such hours.)
"""

import datetime
from zoneinfo import ZoneInfo

import holidays

MINUTE = datetime.timedelta(minutes=1)
MICROSECOND = datetime.timedelta(microseconds=1)


class ReferenceCalendar:
    def __init__(
        self,
        *,
        timezone,
        support_days,
        opens_minute,
        closes_minute,
        holiday_country=None,
        holiday_subdivision=None,
        holiday_categories=("public",),
    ):
        self.zone = ZoneInfo(timezone)
        self.support_days = support_days
        self.opens = opens_minute
        self.closes = closes_minute
        self.country = holiday_country
        self.subdivision = holiday_subdivision
        self.categories = holiday_categories
        self.holiday_dates = {}  # year → set of dates: only to keep the walk bearable

    # Days

    def holiday(self, day):
        if self.country is None:
            return False
        if day.year not in self.holiday_dates:
            self.holiday_dates[day.year] = set(
                holidays.country_holidays(
                    self.country,
                    subdiv=self.subdivision,
                    categories=self.categories,
                    years=day.year,
                )
            )
        return day in self.holiday_dates[day.year]

    def working_day(self, day):
        return day.weekday() < 5 and not self.holiday(day)

    def support_day(self, day):
        if self.support_days == "all_days":
            return True
        if self.support_days == "weekdays":
            return day.weekday() < 5
        return self.working_day(day)

    def add_working_days(self, day, n):
        while n > 0:
            day += datetime.timedelta(days=1)
            if self.working_day(day):
                n -= 1
        return day

    def working_days_between(self, start, end):
        count = 0
        day = start + datetime.timedelta(days=1)
        while day <= end:
            if self.working_day(day):
                count += 1
            day += datetime.timedelta(days=1)
        return count

    # Minutes

    @staticmethod
    def minute_start(instant):
        """The whole UTC minute holding `instant`."""
        instant = instant.astimezone(datetime.timezone.utc)
        return instant.replace(second=0, microsecond=0)

    def business_minute(self, minute):
        """Is the whole minute starting at `minute` business time?"""
        local = minute.astimezone(self.zone)
        wall = local.hour * 60 + local.minute
        return self.support_day(local.date()) and self.opens <= wall < self.closes

    def is_business_time(self, instant):
        return self.business_minute(self.minute_start(instant))

    def effective_received_at(self, instant):
        instant = instant.astimezone(datetime.timezone.utc)
        if self.is_business_time(instant):
            return instant
        minute = self.minute_start(instant) + MINUTE
        while not self.business_minute(minute):
            minute += MINUTE
        return minute

    def add(self, instant, amount):
        """The first instant by which `amount` of business time has run since `instant`."""
        instant = instant.astimezone(datetime.timezone.utc)
        left = amount
        if left == datetime.timedelta(0):
            return instant
        minute = self.minute_start(instant)
        if minute != instant:
            # The rest of the minute the instant falls in.
            rest = minute + MINUTE - instant
            if self.business_minute(minute):
                if left <= rest:
                    return instant + left
                left -= rest
            minute += MINUTE
        while True:
            if self.business_minute(minute):
                if left <= MINUTE:
                    return minute + left
                left -= MINUTE
            minute += MINUTE

    def service_start_due(self, received_at, hours):
        return self.add(self.effective_received_at(received_at), datetime.timedelta(hours=hours))

    def between(self, start, end):
        """Business time in [start, end), start <= end."""
        start = start.astimezone(datetime.timezone.utc)
        end = end.astimezone(datetime.timezone.utc)
        total = datetime.timedelta(0)
        minute = self.minute_start(start)
        while minute < end:
            if self.business_minute(minute):
                total += min(end, minute + MINUTE) - max(start, minute)
            minute += MINUTE
        return total
