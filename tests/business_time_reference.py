"""A slow, obviously correct model of business time, for checking contracts.business_time.

It walks real time one minute at a time and asks, for each minute, whether the local wall clock
of that minute lies inside the support hours of a support day. It shares no code with the module.
"""

import datetime
import zoneinfo

import holidays

MINUTE = datetime.timedelta(minutes=1)


class ReferenceCalendar:
    def __init__(self, *, timezone, support_days, opens_minute, closes_minute, holiday_country=None,
                 holiday_subdivision=None, holiday_categories=("public",)):
        self.zone = zoneinfo.ZoneInfo(timezone)
        self.support_days = support_days
        self.opens = opens_minute
        self.closes = closes_minute
        self.holidays = (
            holidays.country_holidays(holiday_country, subdiv=holiday_subdivision, categories=holiday_categories)
            if holiday_country
            else {}
        )

    def working_day(self, day):
        return day.weekday() < 5 and day not in self.holidays

    def support_day(self, day):
        if self.support_days == "all_days":
            return True
        if self.support_days == "weekdays":
            return day.weekday() < 5
        return self.working_day(day)

    def business_minute(self, instant):
        """Is the minute starting at `instant` (a whole UTC minute) business time?"""
        local = instant.astimezone(self.zone)
        wall = local.hour * 60 + local.minute
        return self.support_day(local.date()) and self.opens <= wall < self.closes

    def effective_received_at(self, instant):
        while not self.business_minute(instant):
            instant += MINUTE
        return instant

    def add_minutes(self, instant, minutes):
        if minutes == 0:
            return instant
        while True:
            if self.business_minute(instant):
                minutes -= 1
                if minutes == 0:
                    return instant + MINUTE
            instant += MINUTE

    def minutes_between(self, start, end):
        count = 0
        while start < end:
            count += self.business_minute(start)
            start += MINUTE
        return count

    def add_working_days(self, day, n):
        while n > 0:
            day += datetime.timedelta(days=1)
            if self.working_day(day):
                n -= 1
        return day
