"""RFC 5545 text: escaping, folding and rule-based VTIMEZONEs.

Events are written line by line here instead of through icalendar's component tree: a feed
of a thousand sessions is built several times faster (see benchmarks/feeds.py), and the
calendar frame and time zones still come from icalendar.
"""

from __future__ import annotations

import calendar as month_calendar
import functools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

CRLF = "\r\n"
MAX_LINE_OCTETS = 75

# Control characters never reach a feed; line and paragraph separators become new lines.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f\u200b\u2028\u2029\ufeff]")
_NEWLINES = re.compile(r"\r\n|\r|\u2028|\u2029")
_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})


def clean_text(value: str) -> str:
    """Plain text as it may appear in a calendar: no control characters, LF line breaks."""
    value = _NEWLINES.sub("\n", value).replace("\t", " ")
    return _CONTROL.sub("", value)


def escape_text(value: str) -> str:
    """A TEXT property value (RFC 5545 3.3.11)."""
    return clean_text(value).translate(_TEXT_ESCAPES)


def param_value(value: str) -> str:
    """A parameter value (RFC 5545 3.2): quoted when needed; DQUOTE and newlines dropped."""
    value = clean_text(value).replace("\n", " ").replace('"', "")
    return f'"{value}"' if any(ch in value for ch in ":;,") else value


def fold(line: str) -> str:
    """Fold a content line to at most 75 octets per line, never inside a UTF-8 character."""
    if len(line) <= MAX_LINE_OCTETS and line.isascii():
        return line
    data = line.encode()
    if len(data) <= MAX_LINE_OCTETS:
        return line
    parts = []
    start, limit = 0, MAX_LINE_OCTETS
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # inside a character
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, MAX_LINE_OCTETS - 1  # continuation lines start with a space
    return (CRLF + " ").join(parts)


def utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def local_stamp(value: datetime, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y%m%dT%H%M%S")


def _transitions(zone: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta, str]]:
    """(local wall time at the change, offset before, offset after, name after) in `year`."""
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    step = timedelta(hours=1)
    while moment.year == year:
        nxt = moment + step
        offset = nxt.astimezone(zone).utcoffset()
        if offset != previous:
            wall = (nxt.astimezone(zone) - offset + previous).replace(tzinfo=None)
            found.append((wall, previous, offset, nxt.astimezone(zone).tzname() or ""))
            previous = offset
        moment = nxt
    return found


def _rule_day(wall: datetime) -> tuple[int, str]:
    """The transition's BYDAY: 'last Sunday' if it is in the month's last week, else n-th."""
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[wall.weekday()]
    days_in_month = month_calendar.monthrange(wall.year, wall.month)[1]
    if wall.day + 7 > days_in_month:
        return -1, weekday
    return (wall.day - 1) // 7 + 1, weekday


def _first_in_1970(month: int, nth: int, weekday: str, wall: datetime) -> datetime:
    index = ("MO", "TU", "WE", "TH", "FR", "SA", "SU").index(weekday)
    days = [
        d
        for d in month_calendar.Calendar().itermonthdates(1970, month)
        if d.month == month and d.weekday() == index
    ]
    day = days[-1] if nth == -1 else days[nth - 1]
    return datetime(1970, month, day.day, wall.hour, wall.minute, wall.second)


@functools.cache
def vtimezone(timezone: str, year: int) -> str:
    """A VTIMEZONE with yearly RRULEs for the zone's switches, as Outlook and ical.js expect.

    (icalendar's own generator writes RDATE lists, which those clients read wrongly for dates
    after the listed switches.)
    """
    zone = ZoneInfo(timezone)
    component = Timezone()
    component.add("tzid", timezone)
    changes = _transitions(zone, year)
    if not changes:
        offset = datetime(year, 1, 1, tzinfo=zone).utcoffset()
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(1970, 1, 1))
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        standard.add("tzname", datetime(year, 1, 1, tzinfo=zone).tzname() or timezone)
        component.add_component(standard)
    for wall, before, after, name in changes:
        part = TimezoneDaylight() if after > before else TimezoneStandard()
        nth, weekday = _rule_day(wall)
        part.add("dtstart", _first_in_1970(wall.month, nth, weekday, wall))
        part.add("rrule", {"freq": "yearly", "bymonth": wall.month, "byday": f"{nth}{weekday}"})
        part.add("tzoffsetfrom", before)
        part.add("tzoffsetto", after)
        part.add("tzname", name)
        component.add_component(part)
    return component.to_ical().decode()
