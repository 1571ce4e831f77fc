"""Times are stored in UTC and recurrence keeps local wall time across DST switches."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import StatementError

from eventsapp.database import db
from eventsapp.models import Format, Session
from eventsapp.services.recurrence import local_to_utc
from eventsapp.services.scheduling import planned_local_starts
from tests.factories import make_session

BERLIN = ZoneInfo("Europe/Berlin")


def expand(rule: str, *, start_time: time, first_day: date, until: date) -> list[datetime]:
    """A format's rule as the scheduler expands it, placed in UTC as sessions store it."""
    format = Format(
        rrule=rule, series_start=first_day, start_time=start_time, rdates="", exdates=""
    )
    return [local_to_utc(local, "Europe/Berlin") for local in planned_local_starts(format, until)]


def test_second_tuesday_at_18_stays_18_across_both_dst_switches():
    starts = expand(
        "FREQ=MONTHLY;BYDAY=2TU",
        start_time=time(18, 0),
        first_day=date(2027, 1, 1),
        until=date(2027, 12, 31),
    )
    assert len(starts) == 12
    assert all(s.tzinfo is UTC or s.utcoffset().total_seconds() == 0 for s in starts)
    assert {s.astimezone(BERLIN).time() for s in starts} == {time(18, 0)}
    by_month = {s.month: s for s in starts}
    assert by_month[3].hour == 17  # 9 March 2027: still winter time, UTC+1
    assert by_month[4].hour == 16  # 13 April 2027: summer time, UTC+2
    assert by_month[11].hour == 17  # 9 November 2027: winter time again
    assert [s.astimezone(BERLIN).day for s in starts[:3]] == [12, 9, 9]


def test_last_thursday_rule():
    starts = expand(
        "FREQ=MONTHLY;BYDAY=-1TH",
        start_time=time(17, 0),
        first_day=date(2027, 3, 1),
        until=date(2027, 5, 1),
    )
    assert [s.astimezone(BERLIN).date() for s in starts] == [date(2027, 3, 25), date(2027, 4, 29)]


def test_naive_datetimes_are_refused(ctx):
    session = make_session()
    session.starts_at = datetime(2027, 1, 12, 18, 0)  # naive
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.flush()
    db.session.rollback()


def test_times_come_back_as_aware_utc(ctx):
    local = datetime(2027, 7, 13, 18, 0, tzinfo=BERLIN)
    session_id = make_session(starts_at=local).id
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(Session, session_id)
    assert stored.starts_at == local
    assert stored.starts_at.utcoffset().total_seconds() == 0
    assert stored.local_start.hour == 18
