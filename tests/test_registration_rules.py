"""The registration rules, tested on the service layer without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, event, func, select

from eventsapp.database import db, utcnow
from eventsapp.emails import normalise_email
from eventsapp.mail.delivery import render_deferred
from eventsapp.models import (
    OutboxMessage,
    Registration,
    RegistrationStatus,
    SessionStatus,
    Visibility,
)
from eventsapp.services import registrations as rules
from eventsapp.services import seats
from eventsapp.tokens import manage_token
from tests.factories import applicant, make_format, make_session


def outbox_keys() -> list[str]:
    return list(
        db.session.execute(select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id)).scalars()
    )


def count_registrations(session) -> int:
    return db.session.execute(
        select(func.count()).select_from(Registration).where(Registration.session_id == session.id)
    ).scalar_one()


def test_seats_are_confirmed_until_full_then_waitlisted(ctx):
    session = make_session(capacity=2)
    now = utcnow()
    statuses = [rules.register_for_session(session, applicant(n), now=now).status for n in range(4)]
    db.session.commit()
    assert statuses == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    expected = rules.SeatCounts(capacity=2, taken=2, waitlisted=2)
    assert rules.seat_counts(session, now=now) == expected


def test_each_registration_queues_its_mail_in_the_same_transaction(ctx):
    session = make_session(capacity=1)
    first = rules.register_for_session(session, applicant(1), now=utcnow())
    second = rules.register_for_session(session, applicant(2), now=utcnow())
    db.session.commit()
    assert outbox_keys() == [
        f"registration:{first.id}:received",
        f"registration:{second.id}:received",
    ]
    mails = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
    # Queued unrendered (the request spends no time on templates) ...
    assert [m.deferred_template for m in mails] == [
        "registration_confirmed",
        "registration_waitlisted",
    ]
    assert [m.subject for m in mails] == ["", ""]
    # ... and rendered by the worker before it claims them for sending.
    assert render_deferred(now=utcnow(), limit=50) == 2
    db.session.expire_all()
    assert [m.deferred_template for m in mails] == [None, None]
    assert mails[0].subject.startswith("Anmeldung bestätigt")
    assert mails[1].subject.startswith("Warteliste")
    assert manage_token(first) in mails[0].body_text
    assert "BEGIN:VCALENDAR" in mails[0].ics and "METHOD:REQUEST" in mails[0].ics
    assert mails[1].ics is None


def test_a_mail_whose_registration_is_gone_becomes_a_dead_letter(ctx):
    session = make_session()
    registration = rules.register_for_session(session, applicant(1), now=utcnow())
    db.session.commit()
    db.session.delete(registration)
    db.session.commit()
    assert render_deferred(now=utcnow(), limit=50) == 1
    mail = db.session.execute(select(OutboxMessage)).scalar_one()
    assert mail.status == "dead" and "no longer exists" in mail.last_error
    assert mail.deferred_template == "registration_confirmed"  # a retry renders, not sends ""


def test_rolled_back_registration_leaves_no_mail(ctx):
    session = make_session(capacity=1)
    rules.register_for_session(session, applicant(1), now=utcnow())
    db.session.rollback()
    assert outbox_keys() == []
    assert count_registrations(session) == 0


def test_same_email_twice_is_refused_without_a_second_row(ctx):
    session = make_session()
    first = rules.register_for_session(
        session, applicant(1, email="ayse@example.org"), now=utcnow()
    )
    db.session.commit()
    with pytest.raises(rules.AlreadyRegistered) as raised:
        rules.register_for_session(
            session, applicant(2, email=normalise_email("  Ayse@Example.ORG ")), now=utcnow()
        )
    assert raised.value.registration.id == first.id
    assert count_registrations(session) == 1


def test_a_cancelled_person_may_register_again(ctx):
    session = make_session()
    first = rules.register_for_session(session, applicant(1), now=utcnow())
    rules.cancel_registration(first, now=utcnow())
    again = rules.register_for_session(session, applicant(1), now=utcnow())
    db.session.commit()
    assert again.id != first.id
    assert again.status == RegistrationStatus.CONFIRMED


def test_registration_closes_when_the_session_starts(ctx):
    session = make_session()
    with pytest.raises(rules.RegistrationClosed):
        rules.register_for_session(session, applicant(1), now=session.starts_at)
    rules.register_for_session(session, applicant(2), now=session.starts_at - timedelta(seconds=1))


@pytest.mark.parametrize("status", [SessionStatus.DRAFT, SessionStatus.CANCELLED])
def test_no_registration_for_drafts_or_cancelled_sessions(ctx, status):
    session = make_session(status=status)
    with pytest.raises(rules.RegistrationClosed):
        rules.register_for_session(session, applicant(1), now=utcnow())
    assert count_registrations(session) == 0


def test_registration_window_is_respected(ctx):
    now = utcnow()
    session = make_session(
        registration_opens_at=now + timedelta(days=1),
        registration_closes_at=now + timedelta(days=3),
    )
    with pytest.raises(rules.RegistrationClosed):
        rules.register_for_session(session, applicant(1), now=now)
    rules.register_for_session(session, applicant(2), now=now + timedelta(days=2))
    with pytest.raises(rules.RegistrationClosed):
        rules.register_for_session(session, applicant(3), now=now + timedelta(days=3))


def test_cancelling_a_seat_promotes_exactly_the_earliest_waitlisted(ctx):
    session = make_session(capacity=1)
    now = utcnow()
    holder = rules.register_for_session(session, applicant("holder"), now=now)
    waiting = [
        rules.register_for_session(session, applicant(n), now=now + timedelta(minutes=n))
        for n in (1, 2, 3)
    ]
    db.session.commit()

    promoted = rules.cancel_registration(holder, now=now + timedelta(hours=1))
    db.session.commit()

    assert [r.id for r in promoted] == [waiting[0].id]
    assert [r.status for r in waiting] == ["confirmed", "waitlisted", "waitlisted"]
    assert rules.waitlist_position(waiting[1]) == 1
    assert rules.waitlist_position(waiting[2]) == 2
    keys = outbox_keys()
    assert f"registration:{holder.id}:cancelled" in keys
    assert f"registration:{waiting[0].id}:promoted" in keys
    assert f"registration:{waiting[1].id}:promoted" not in keys


def test_waitlist_order_breaks_ties_by_arrival(ctx):
    session = make_session(capacity=1)
    now = utcnow()
    holder = rules.register_for_session(session, applicant("holder"), now=now)
    same_time = [rules.register_for_session(session, applicant(n), now=now) for n in (1, 2)]
    rules.cancel_registration(holder, now=now)
    assert [r.status for r in same_time] == ["confirmed", "waitlisted"]


def test_cancelling_from_the_waitlist_promotes_nobody(ctx):
    session = make_session(capacity=1)
    now = utcnow()
    rules.register_for_session(session, applicant(1), now=now)
    second = rules.register_for_session(session, applicant(2), now=now)
    third = rules.register_for_session(session, applicant(3), now=now)
    assert rules.cancel_registration(second, now=now) == []
    assert third.status == RegistrationStatus.WAITLISTED
    assert rules.waitlist_position(third) == 1


def test_cancelling_twice_or_after_the_start_is_refused(ctx):
    session = make_session()
    registration = rules.register_for_session(session, applicant(1), now=utcnow())
    with pytest.raises(rules.RegistrationClosed):
        rules.cancel_registration(registration, now=session.starts_at)
    rules.cancel_registration(registration, now=utcnow())
    with pytest.raises(rules.RegistrationError):
        rules.cancel_registration(registration, now=utcnow())


def test_approval_formats_hold_a_seat_while_pending(ctx):
    session = make_session(make_format(approval_required=True), capacity=1)
    first = rules.register_for_session(session, applicant(1), now=utcnow())
    second = rules.register_for_session(session, applicant(2), now=utcnow())
    assert (first.status, second.status) == ("pending", "waitlisted")


def test_new_applicants_do_not_jump_a_waitlist_when_seats_were_added(ctx):
    session = make_session(capacity=1)
    now = utcnow()
    rules.register_for_session(session, applicant(1), now=now)
    waiting = rules.register_for_session(session, applicant(2), now=now)
    session.capacity = 2  # an organiser adds a seat
    late = rules.register_for_session(session, applicant(3), now=now + timedelta(minutes=1))
    assert waiting.status == RegistrationStatus.CONFIRMED
    assert late.status == RegistrationStatus.WAITLISTED


def test_the_seat_ledger_counts_changes_not_yet_flushed(ctx):
    """The seat statements skip the ORM's autoflush; the rules flush before counting."""
    session = make_session(capacity=1)
    now = utcnow()
    seated = rules.register_for_session(session, applicant(1), now=now)
    assert rules.seat_ledger(session, now=now).public_left == 0
    seated.status = RegistrationStatus.CANCELLED  # in the session only, not flushed yet
    assert rules.seat_ledger(session, now=now).public_left == 1


def test_manage_token_is_not_stored_and_finds_the_registration(ctx):
    session = make_session()
    registration = rules.register_for_session(session, applicant(1), now=utcnow())
    db.session.commit()
    token = manage_token(registration)
    assert token not in (registration.token_hash, registration.token_nonce)
    assert rules.find_registration_by_token(token).id == registration.id
    assert rules.find_registration_by_token(token[:-1] + "x") is None
    assert rules.find_registration_by_token("") is None


def test_email_normalisation_ignores_case_and_spaces():
    assert normalise_email("  Ayse.Demir@Example.DE ") == "ayse.demir@example.de"


def test_a_database_error_while_rendering_costs_no_attempt(ctx, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from eventsapp.mail import notifications

    session = make_session()
    for n in (1, 2):
        rules.register_for_session(session, applicant(n), now=utcnow())
    db.session.commit()
    real_render, calls = notifications.render, []

    def flaky(*args):
        calls.append(args)
        if len(calls) == 2:
            raise OperationalError("SELECT …", {}, Exception("server closed the connection"))
        return real_render(*args)

    monkeypatch.setattr(notifications, "render", flaky)
    assert render_deferred(now=utcnow(), limit=50) == 1  # the first; the second waits
    first, second = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()
    assert first.deferred_template is None and first.subject.startswith("Anmeldung bestätigt")
    assert second.deferred_template is not None and second.attempts == 0
    assert second.status == "pending"
    assert render_deferred(now=utcnow(), limit=50) == 1  # the next pass renders it


def test_the_seat_query_reads_the_seats_not_the_waitlist():
    """The query run under the seat lock finds the partial indexes (SQLite's plan for the
    statement as it is sent; a status list bound as parameters would walk the waitlist)."""
    engine = create_engine("sqlite://")
    db.metadata.create_all(engine)
    sent = []
    event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2:4]))
    with engine.connect() as connection:
        connection.execute(seats._SEATS, {"session_id": 1, "email": "ayse@example.org"})
        sql, parameters = sent[-1]
        plan = " ".join(
            row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
        )
    assert "USING INDEX ix_registrations_seats_held (session_id=?)" in plan
    assert "USING INDEX uq_registrations_session_id_email_active (session_id=? AND email=?)" in plan
    assert "SCAN registrations" not in plan


def test_sessions_out_of_the_audience_sight_are_not_found(ctx):
    public = (Visibility.PUBLIC,)
    draft = make_session(status=SessionStatus.DRAFT)
    partners_only = make_session(make_format(visibility=Visibility.PARTNERS))
    cancelled = make_session(status=SessionStatus.CANCELLED)
    for session in (draft, partners_only):
        with pytest.raises(rules.NoSuchSession):
            rules.take_place(session.id, applicant(1), now=utcnow(), audience=public)
    with pytest.raises(rules.NoSuchSession):
        rules.take_place(999999, applicant(1), now=utcnow())
    with pytest.raises(rules.RegistrationClosed):  # visible, but closed
        rules.take_place(cancelled.id, applicant(1), now=utcnow(), audience=public)
    with pytest.raises(rules.RegistrationClosed):  # organisers' own calls ask no audience
        rules.take_place(draft.id, applicant(1), now=utcnow())
    placed = rules.take_place(
        partners_only.id, applicant(1), now=utcnow(), audience=(*public, Visibility.PARTNERS)
    )
    assert placed.status == RegistrationStatus.CONFIRMED
