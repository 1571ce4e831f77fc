"""Planning dates: recurrence from the form, drafts, publishing, moving, cancelling, skipping."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import render_deferred
from eventsapp.models import OutboxMessage, Publication, Session, SessionStatus
from eventsapp.services import registrations as rules
from eventsapp.services import scheduling
from eventsapp.services.recurrence import RecurrenceError, RecurrenceSpec, local_to_utc
from tests.factories import applicant, make_format, make_session

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _generate(format, spec: RecurrenceSpec, now: datetime = NOW) -> list[Session]:
    scheduling.apply_recurrence(format, spec)
    return scheduling.generate_sessions(format, now=now)


def test_second_tuesday_from_january_to_december_gives_twelve_sessions_at_18(ctx):
    format = make_format(duration_minutes=120)
    spec = RecurrenceSpec(
        kind="monthly",
        nth=2,
        weekday=1,
        start_date=date(2027, 1, 1),
        start_time=time(18, 0),
        until=date(2027, 12, 31),
    )
    assert spec.rrule() == "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20271231T235959"
    sessions = _generate(format, spec)
    assert len(sessions) == 12
    assert all(s.status == SessionStatus.DRAFT for s in sessions)
    assert {s.local_start.time() for s in sessions} == {time(18, 0)}
    assert {s.local_end.time() for s in sessions} == {time(20, 0)}
    utc_hours = {s.starts_at.month: s.starts_at.hour for s in sessions}
    assert utc_hours[1] == 17 and utc_hours[3] == 17  # winter time, UTC+1
    assert utc_hours[4] == 16 and utc_hours[10] == 16  # summer time, UTC+2
    assert utc_hours[11] == 17 and utc_hours[12] == 17
    assert [s.local_start.day for s in sessions[:4]] == [12, 9, 9, 13]


def test_last_friday_rule(ctx):
    spec = RecurrenceSpec(
        kind="monthly",
        nth=-1,
        weekday=4,
        start_date=date(2027, 1, 1),
        start_time=time(17, 30),
        count=3,
    )
    sessions = _generate(make_format(), spec)
    assert [s.local_start.date() for s in sessions] == [
        date(2027, 1, 29),
        date(2027, 2, 26),
        date(2027, 3, 26),
    ]


def test_every_two_weeks_on_wednesday(ctx):
    spec = RecurrenceSpec(
        kind="weekly",
        interval=2,
        weekday=2,
        start_date=date(2027, 3, 1),
        start_time=time(10, 0),
        until=date(2027, 4, 30),
    )
    sessions = _generate(make_format(), spec)
    days = [s.local_start.date() for s in sessions]
    assert days == [
        date(2027, 3, 3),
        date(2027, 3, 17),
        date(2027, 3, 31),
        date(2027, 4, 14),
        date(2027, 4, 28),
    ]
    assert {s.local_start.time() for s in sessions} == {time(10, 0)}


def test_explicit_dates(ctx):
    spec = RecurrenceSpec(
        kind="dates",
        start_date=date(2027, 1, 1),
        start_time=time(18, 0),
        dates=(date(2027, 5, 4), date(2027, 2, 2), date(2027, 5, 4)),
    )
    sessions = _generate(make_format(), spec)
    assert [s.local_start.date() for s in sessions] == [date(2027, 2, 2), date(2027, 5, 4)]


def test_more_than_200_dates_are_refused_and_nothing_is_created(ctx):
    format = make_format()
    spec = RecurrenceSpec(
        kind="weekly",
        weekday=0,
        start_date=date(2027, 1, 1),
        start_time=time(18, 0),
        until=date(2031, 1, 1),
    )
    with pytest.raises(RecurrenceError) as raised:
        _generate(format, spec)
    assert "mehr als 200 Termine" in str(raised.value.message)
    assert db.session.execute(select(Session)).first() is None


def test_a_rule_without_end_is_refused(ctx):
    spec = RecurrenceSpec(
        kind="weekly", weekday=0, start_date=date(2027, 1, 1), start_time=time(18, 0)
    )
    with pytest.raises(RecurrenceError, match="wann die Reihe endet"):
        spec.local_starts()


def test_times_the_clocks_skip_or_repeat_are_refused_and_their_neighbours_are_not(ctx):
    with pytest.raises(RecurrenceError) as raised:
        local_to_utc(datetime(2026, 3, 29, 2, 30), "Europe/Berlin")
    assert "29.03.2026" in str(raised.value.message)
    with pytest.raises(RecurrenceError) as raised:
        local_to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Berlin")
    assert "gibt es am 25.10.2026 zweimal" in str(raised.value.message)
    assert raised.value.field == "start_time"
    before = local_to_utc(datetime(2026, 10, 25, 1, 59), "Europe/Berlin")
    after = local_to_utc(datetime(2026, 10, 25, 3, 0), "Europe/Berlin")
    assert before == datetime(2026, 10, 24, 23, 59, tzinfo=UTC)  # still summer time
    assert after == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)  # winter time


def test_generating_again_creates_nothing_twice_and_skipped_dates_stay_away(ctx):
    format = make_format()
    spec = RecurrenceSpec(
        kind="monthly",
        nth=1,
        weekday=0,
        start_date=date(2027, 1, 1),
        start_time=time(18, 0),
        count=4,
    )
    first = _generate(format, spec)
    assert len(first) == 4
    scheduling.skip_draft(first[1])
    assert scheduling.generate_sessions(format, now=NOW) == []
    remaining = (
        db.session.execute(select(Session).where(Session.format_id == format.id)).scalars().all()
    )
    assert len(remaining) == 3


def test_publishing_selected_drafts_records_one_publication(ctx):
    format = make_format()
    drafts = [
        make_session(format, status=SessionStatus.DRAFT, starts_at=NOW + timedelta(days=10 * i))
        for i in range(1, 4)
    ]
    other = make_session(make_format(), status=SessionStatus.DRAFT)
    publication = scheduling.publish_sessions(format, [*drafts[:2], other], now=NOW)
    db.session.commit()
    assert [s.status for s in drafts] == ["published", "published", "draft"]
    assert other.status == SessionStatus.DRAFT  # another format's draft is not touched
    assert {
        s.id
        for s in db.session.execute(
            select(Session).where(Session.publication_id == publication.id)
        ).scalars()
    } == {drafts[0].id, drafts[1].id}
    assert db.session.execute(select(Publication)).scalar_one().format_id == format.id
    with pytest.raises(RecurrenceError):
        scheduling.publish_sessions(format, [drafts[0]], now=NOW)  # already published


def test_moving_a_session_bumps_sequence_and_mails_registrants(ctx):
    now = utcnow()
    session = make_session(capacity=2, starts_at=now + timedelta(days=20))
    registration = rules.register_for_session(session, applicant(1), now=now)
    before = session.sequence
    new_local = (session.local_start + timedelta(days=1)).replace(tzinfo=None)
    scheduling.reschedule_session(
        session, local_start=new_local, duration=timedelta(hours=2), now=now
    )
    db.session.commit()
    assert session.sequence == before + 1
    assert session.local_start.replace(tzinfo=None) == new_local
    keys = db.session.execute(select(OutboxMessage.dedupe_key)).scalars().all()
    assert f"registration:{registration.id}:session-changed:{session.sequence}" in keys


def test_this_and_following_keeps_each_date_and_takes_the_new_time(ctx):
    now = utcnow()
    format = make_format()
    base = datetime.combine(now.date() + timedelta(days=10), time(18, 0), BERLIN)
    sessions = [make_session(format, starts_at=base + timedelta(weeks=i)) for i in range(4)]
    earlier_local = sessions[1].local_start
    changed = scheduling.reschedule_session(
        sessions[1],
        local_start=earlier_local.replace(hour=17, tzinfo=None),
        duration=timedelta(hours=3),
        now=now,
        following=True,
    )
    assert [s.id for s in changed] == [s.id for s in sessions[1:]]
    assert sessions[0].local_start.hour == 18
    for i, s in enumerate(sessions[1:], start=1):
        assert s.local_start.date() == (base + timedelta(weeks=i)).date()
        assert (s.local_start.hour, s.local_end.hour) == (17, 20)


def test_moving_into_the_dst_gap_changes_nothing(ctx):
    session = make_session(starts_at=datetime(2027, 3, 20, 18, 0, tzinfo=BERLIN))
    with pytest.raises(RecurrenceError):
        scheduling.reschedule_session(
            session, local_start=datetime(2027, 3, 28, 2, 30), duration=timedelta(hours=1), now=NOW
        )
    assert session.local_start.day == 20


def test_cancelling_a_session_keeps_it_visible_and_mails_everyone_active(ctx):
    now = utcnow()
    session = make_session(capacity=1)
    holder = rules.register_for_session(session, applicant(1), now=now)
    waiting = rules.register_for_session(session, applicant(2), now=now)
    scheduling.cancel_session(session, reason="Krankheit der Referentin", now=now)
    db.session.commit()
    assert session.status == SessionStatus.CANCELLED and session.sequence == 1
    keys = set(db.session.execute(select(OutboxMessage.dedupe_key)).scalars())
    assert {
        f"registration:{holder.id}:session-cancelled",
        f"registration:{waiting.id}:session-cancelled",
    } <= keys
    render_deferred(now=now, limit=50)  # as the worker does before sending
    mail = db.session.execute(
        select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"registration:{holder.id}:session-cancelled"
        )
    ).scalar_one()
    assert "Krankheit der Referentin" in mail.body_text


def test_capacity_cannot_drop_below_seats_taken_and_rising_promotes(ctx):
    now = utcnow()
    session = make_session(capacity=1)
    rules.register_for_session(session, applicant(1), now=now)
    waiting = rules.register_for_session(session, applicant(2), now=now)
    details = scheduling.SessionDetails(
        venue_name=session.venue_name,
        venue_address=session.venue_address,
        host_organisation=session.host_organisation,
        capacity=0,
        languages="de",
        interpreting="",
        note="",
    )
    with pytest.raises(RecurrenceError):
        scheduling.update_session_details(session, details, now=now)
    scheduling.update_session_details(
        session, scheduling.SessionDetails(**{**details.__dict__, "capacity": 2}), now=now
    )
    assert waiting.status == "confirmed"
