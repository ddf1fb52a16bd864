"""Working days in England & Wales: weekends and bank holidays from the `holidays` library."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    """True when `day` is neither a weekend nor an England & Wales bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else value


def add_working_days(start: date | datetime | str, days: int) -> date:
    """The date `days` working days after (or, if negative, before) `start`."""
    day = _as_date(start)
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(first: date | datetime | str, last: date | datetime | str) -> int:
    """Working days strictly after `first` and strictly before `last` (0 when `last` is not later)."""
    start, end = _as_date(first), _as_date(last)
    count, day = 0, start + timedelta(days=1)
    while day < end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count
