"""Which days are business days (営業日), for deadlines such as 「3営業日前の17:00」.

A business day is a Monday to Friday that is neither

- a Japanese public holiday (国民の祝日, including 振替休日 and 国民の休日), as the `holidays`
  package (python-holidays) lists them for Japan, nor
- in the year-end closing, 29 December to 3 January. No law makes those days holidays for
  everyone, but the Act on Holidays of Administrative Organs (行政機関の休日に関する法律) closes
  government offices then, and most companies, schools and NPOs follow: an organizer counting
  「3営業日前」 back from a 6 January seminar expects the office's last working day of December,
  not 31 December, when nobody is there to prepare the list.

The calendar is Japan's whatever the event's time zone (eventreg's organizers work in Japan);
the dates themselves are the event's local dates (domain.timing.rules resolves in that zone).
The package knows Japan's holidays from 1949 to 2099 (the forms accept dates up to 2100; in 2100
only weekends and the year-end closing would be skipped).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("JP", years=year))


def year_end_closing(day: date) -> bool:
    """29 December – 3 January (年末年始)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _public_holidays(day.year) and not year_end_closing(day)


def before(day: date, count: int) -> date:
    """The ``count``-th business day before ``day`` (``day`` itself never counts)."""
    found = 0
    while found < count:
        day -= timedelta(days=1)
        if is_business_day(day):
            found += 1
    return day
