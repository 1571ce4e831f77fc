"""Recurrence rules: built from a form, expanded in local wall time, placed in UTC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from flask_babel import lazy_gettext as _l

MAX_OCCURRENCES = 200
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# The days a date may fall on anywhere (forms, API filters, placed sessions). Far enough from
# datetime's own limits (years 1 and 9999) that no shift between a time zone and UTC, no
# session length or reminder offset and no feed's time-zone year can overflow; wide enough
# to be in nobody's way. A year typed as 0001 gets a message instead of an OverflowError.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


class RecurrenceError(ValueError):
    """A rule that cannot be used; `message` is for the organiser, `field` names the input."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def within_range(day: date) -> bool:
    """Whether `day` lies between EARLIEST_DAY and LATEST_DAY, the days the app works with."""
    return EARLIEST_DAY <= day <= LATEST_DAY


def local_to_utc(local: datetime, timezone: str) -> datetime:
    """Place a naive local wall time in its zone and return it in UTC.

    A time that does not exist (the hour skipped when clocks go forward) is refused rather
    than silently shifted, and so is a time that exists twice (the hour repeated when clocks
    go back): calendar programs disagree about which of the two such a time means (some
    read the first, some the second), so a session there would start at different times
    in different calendars.
    A day outside EARLIEST_DAY..LATEST_DAY is refused too: forms check their own fields, but
    rules expand beyond what was typed (a weekly series from December 2999), and the
    callers already turn a RecurrenceError into a message, where an OverflowError was a 500.
    """
    if not within_range(local.date()):
        raise RecurrenceError(
            _l(
                "Termine sind nur vom %(first)s bis zum %(last)s möglich.",
                first=f"{EARLIEST_DAY:%d.%m.%Y}",
                last=f"{LATEST_DAY:%d.%m.%Y}",
            )
        )
    zone = ZoneInfo(timezone)
    aware = local.replace(tzinfo=zone, fold=0)
    in_utc = aware.astimezone(UTC)
    if in_utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise RecurrenceError(
            _l(
                "%(time)s Uhr gibt es am %(date)s nicht: In dieser Nacht wird die Uhr "
                "vorgestellt. Bitte wählen Sie eine andere Uhrzeit.",
                time=local.strftime("%H:%M"),
                date=local.strftime("%d.%m.%Y"),
            ),
            field="start_time",
        )
    if aware.utcoffset() != local.replace(tzinfo=zone, fold=1).utcoffset():
        raise RecurrenceError(
            _l(
                "%(time)s Uhr gibt es am %(date)s zweimal: In dieser Nacht wird die Uhr "
                "zurückgestellt. Bitte wählen Sie eine andere Uhrzeit.",
                time=local.strftime("%H:%M"),
                date=local.strftime("%d.%m.%Y"),
            ),
            field="start_time",
        )
    return in_utc


@dataclass(frozen=True)
class RecurrenceSpec:
    """What the schedule form asks for; `rrule()` turns it into RFC 5545 text."""

    kind: str  # "weekly", "monthly" or "dates"
    start_date: date
    start_time: time
    weekday: int = 0  # 0 = Monday
    interval: int = 1  # weeks between dates (weekly)
    nth: int = 1  # 1..4, or -1 for the last (monthly)
    count: int | None = None
    until: date | None = None
    dates: tuple[date, ...] = field(default_factory=tuple)

    def rrule(self) -> str | None:
        if self.kind == "dates":
            return None
        day = WEEKDAYS[self.weekday]
        if self.kind == "weekly":
            parts = ["FREQ=WEEKLY", f"INTERVAL={self.interval}", f"BYDAY={day}"]
        else:
            parts = ["FREQ=MONTHLY", f"BYDAY={self.nth}{day}"]
        if self.count:
            parts.append(f"COUNT={self.count}")
        elif self.until:
            parts.append(f"UNTIL={self.until:%Y%m%d}T235959")
        return ";".join(parts)

    def local_starts(self) -> list[datetime]:
        """The dates as naive local wall times, at most MAX_OCCURRENCES of them."""
        if self.kind == "dates":
            starts = sorted({datetime.combine(d, self.start_time) for d in self.dates})
        else:
            if not self.count and not self.until:
                raise RecurrenceError(_l("Bitte geben Sie an, wann die Reihe endet."), field="end")
            dtstart = datetime.combine(self.start_date, self.start_time)
            rule = rrulestr(self.rrule(), dtstart=dtstart)
            starts = []
            for start in rule:
                starts.append(start)
                if len(starts) > MAX_OCCURRENCES:
                    break
        if len(starts) > MAX_OCCURRENCES:
            raise RecurrenceError(
                _l(
                    "Diese Regel ergibt mehr als %(max)d Termine. Bitte wählen Sie ein "
                    "früheres Ende.",
                    max=MAX_OCCURRENCES,
                ),
                field="end",
            )
        if not starts:
            raise RecurrenceError(_l("Diese Regel ergibt keinen einzigen Termin."), field="end")
        return starts
