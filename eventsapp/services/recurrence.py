"""Expanding a format's recurrence rule into dated occurrences."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr


def expand_occurrences(
    rule: str,
    *,
    start_time: time,
    timezone: str,
    first_day: date,
    until: datetime,
) -> list[datetime]:
    """Occurrences of `rule` from `first_day` up to `until`, as aware UTC datetimes.

    The rule is expanded on naive local wall times and only then placed in the zone, so
    "18:00 on the second Tuesday" stays 18:00 on both sides of a daylight-saving switch.
    """
    zone = ZoneInfo(timezone)
    dtstart = datetime.combine(first_day, start_time)
    local_until = until.astimezone(zone).replace(tzinfo=None)
    rule_set = rrulestr(rule, dtstart=dtstart, forceset=True)
    return [
        local.replace(tzinfo=zone).astimezone(UTC)
        for local in rule_set.between(dtstart, local_until, inc=True)
    ]
