"""Approval holds seats; partner contingents keep seats exactly, also under concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import render_deferred
from eventsapp.models import (
    Contingent,
    OrganisationKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Role,
)
from eventsapp.services import contingents, scheduling
from eventsapp.services import registrations as rules
from eventsapp.services.recurrence import RecurrenceError
from tests.factories import applicant, make_format, make_organisation, make_session, make_user


def keys() -> set[str]:
    return set(db.session.execute(select(OutboxMessage.dedupe_key)).scalars())


def test_approve_confirms_and_reject_frees_the_seat_for_the_waitlist(ctx):
    now = utcnow()
    session = make_session(make_format(approval_required=True), capacity=2)
    first, second, third = (
        rules.register_for_session(session, applicant(n), now=now) for n in (1, 2, 3)
    )
    assert [r.status for r in (first, second, third)] == ["pending", "pending", "waitlisted"]
    assert rules.seat_counts(session, now=now).left == 0  # pending holds its seat

    rules.approve_registration(first, now=now)
    promoted = rules.reject_registration(second, now=now)
    db.session.commit()

    assert first.status == RegistrationStatus.CONFIRMED
    assert second.status == RegistrationStatus.REJECTED
    assert [r.id for r in promoted] == [third.id]
    assert third.status == RegistrationStatus.PENDING  # promoted, still to be approved
    assert {
        f"registration:{first.id}:approved",
        f"registration:{second.id}:rejected",
        f"registration:{third.id}:promoted",
    } <= keys()
    render_deferred(now=now, limit=50)  # as the worker does before sending
    promoted_mail = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == f"registration:{third.id}:promoted")
    ).scalar_one()
    assert "reserviert" in promoted_mail.body_text
    with pytest.raises(rules.RegistrationError):
        rules.approve_registration(first, now=now)  # only pending ones
    # The rejected person may try again; the address is free.
    again = rules.register_for_session(session, applicant(2), now=now)
    assert again.status == RegistrationStatus.WAITLISTED


def test_move_to_top_of_waitlist(ctx):
    now = utcnow()
    session = make_session(capacity=1)
    holder = rules.register_for_session(session, applicant(0), now=now)
    waiting = [
        rules.register_for_session(session, applicant(n), now=now + timedelta(seconds=n))
        for n in (1, 2, 3)
    ]
    rules.move_to_top_of_waitlist(waiting[2], now=now)
    assert [rules.waitlist_position(r) for r in waiting] == [2, 3, 1]
    rules.cancel_registration(holder, now=now)
    assert waiting[2].status == RegistrationStatus.CONFIRMED


def test_check_in_only_for_confirmed(ctx):
    now = utcnow()
    session = make_session(capacity=1)
    holder = rules.register_for_session(session, applicant(0), now=now)
    waiting = rules.register_for_session(session, applicant(1), now=now)
    rules.set_attendance(holder, True, now=now)
    assert holder.attended and holder.checked_in_at == now
    with pytest.raises(rules.RegistrationError):
        rules.set_attendance(waiting, True, now=now)


def _partner_member(organisation=None):
    organisation = organisation or make_organisation(OrganisationKind.PARTNER)
    return make_user(Role.PARTNER, organisation)


def test_contingent_seats_are_kept_for_the_partner_until_release(ctx):
    now = utcnow()
    session = make_session(capacity=4)
    member = _partner_member()
    contingents.set_contingent(
        session, member.organisation, seats=2, release_at=now + timedelta(days=2), now=now
    )
    public = [rules.register_for_session(session, applicant(n), now=now) for n in range(3)]
    assert [r.status for r in public] == ["confirmed", "confirmed", "waitlisted"]
    assert rules.seat_counts(session, now=now).left == 0

    mine = rules.register_for_session(session, rules.Applicant.from_user(member), now=now)
    assert mine.status == RegistrationStatus.CONFIRMED and mine.contingent_id is not None
    counts = rules.seat_counts(session, now=now)
    assert (counts.taken, counts.reserved, counts.left) == (3, 1, 0)

    later = now + timedelta(days=2)  # release: the unused seat goes to the waitlist
    db.session.commit()
    assert contingents.release_due_contingents(now=later) == 1
    assert public[2].status == RegistrationStatus.CONFIRMED
    counts = rules.seat_counts(session, now=later)
    assert (counts.taken, counts.reserved, counts.left) == (4, 0, 0)
    assert contingents.release_due_contingents(now=later) == 0  # once


def test_partner_members_use_the_public_pool_when_their_contingent_is_used_up(ctx):
    now = utcnow()
    session = make_session(capacity=3)
    organisation = make_organisation(OrganisationKind.PARTNER)
    members = [_partner_member(organisation) for _ in range(3)]
    contingents.set_contingent(
        session, organisation, seats=1, release_at=now + timedelta(days=2), now=now
    )
    got = [
        rules.register_for_session(session, rules.Applicant.from_user(m), now=now) for m in members
    ]
    assert [r.contingent_id is not None for r in got] == [True, False, False]
    assert [r.status for r in got] == ["confirmed", "confirmed", "confirmed"]


def test_contingent_cannot_promise_seats_that_are_taken(ctx):
    now = utcnow()
    session = make_session(capacity=3)
    for n in range(2):
        rules.register_for_session(session, applicant(n), now=now)
    partner = make_organisation(OrganisationKind.PARTNER)
    with pytest.raises(RecurrenceError) as raised:
        contingents.set_contingent(
            session, partner, seats=2, release_at=now + timedelta(days=1), now=now
        )
    assert "frei: 1" in str(raised.value.message)
    host = make_organisation(OrganisationKind.HOST)
    with pytest.raises(RecurrenceError):
        contingents.set_contingent(
            session, host, seats=1, release_at=now + timedelta(days=1), now=now
        )
    with pytest.raises(RecurrenceError):
        contingents.set_contingent(
            session, partner, seats=1, release_at=session.starts_at + timedelta(minutes=1), now=now
        )


def test_contingent_accounting_is_exact_under_concurrency(any_app):
    """20 public applicants and 10 members of a partner with 4 reserved seats race for 10."""
    with any_app.app_context():
        now = utcnow()
        session = make_session(capacity=10)
        organisation = make_organisation(OrganisationKind.PARTNER)
        members = [_partner_member(organisation) for _ in range(10)]
        contingents.set_contingent(
            session, organisation, seats=4, release_at=now + timedelta(days=3), now=now
        )
        db.session.commit()
        session_id = session.id
        member_applicants = [rules.Applicant.from_user(m) for m in members]
    applicants = member_applicants + [applicant(f"public{n}") for n in range(20)]
    start = threading.Barrier(len(applicants))
    errors: list[BaseException] = []

    def register(person) -> None:
        start.wait()
        try:
            with any_app.app_context():
                stored = db.session.get(rules.Session, session_id)
                rules.register_for_session(stored, person, now=utcnow())
                db.session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=register, args=(p,)) for p in applicants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with any_app.app_context():
        rows = db.session.execute(
            select(Registration.status, Registration.contingent_id.is_not(None), func.count())
            .where(Registration.session_id == session_id)
            .group_by(Registration.status, Registration.contingent_id.is_not(None))
        ).all()
        by = {(status, from_contingent): count for status, from_contingent, count in rows}
        seated = sum(c for (s, _), c in by.items() if s == RegistrationStatus.CONFIRMED)
        assert seated == 10
        assert by.get((RegistrationStatus.CONFIRMED, True)) == 4
        assert by.get((RegistrationStatus.WAITLISTED, False)) == 20
        contingent = db.session.execute(select(Contingent)).scalar_one()
        assert contingent.seats == 4


def test_two_partners_one_contingent_released_and_a_waitlist(ctx):
    """Two contingents on one session, one of them past its release time, and someone
    already waiting: each partner keeps what is theirs, released seats are everyone's."""
    now = utcnow()
    session = make_session(capacity=5)
    kept, released = _partner_member(), _partner_member()
    contingents.set_contingent(
        session, kept.organisation, seats=2, release_at=now + timedelta(days=2), now=now
    )
    contingents.set_contingent(
        session, released.organisation, seats=2, release_at=now + timedelta(hours=1), now=now
    )
    public = [rules.register_for_session(session, applicant(n), now=now) for n in range(2)]
    assert [r.status for r in public] == ["confirmed", "waitlisted"]  # 1 public seat

    later = now + timedelta(hours=2)  # the second partner's 2 seats are everyone's now
    # Someone new does not jump the person waiting from before; both get a released seat.
    newcomer = rules.register_for_session(session, applicant(9), now=later)
    assert public[1].status == RegistrationStatus.CONFIRMED
    assert newcomer.status == RegistrationStatus.CONFIRMED and newcomer.contingent_id is None
    # Only the first partner's reserved seats are left: the public waits, the member does not.
    assert rules.register_for_session(session, applicant(10), now=later).status == "waitlisted"
    mine = rules.register_for_session(session, rules.Applicant.from_user(kept), now=later)
    assert mine.status == RegistrationStatus.CONFIRMED and mine.contingent_id is not None
    # A waitlist and only another partner's seat free: nobody moves up, the member gets it.
    other = rules.register_for_session(
        session, rules.Applicant.from_user(_partner_member(kept.organisation)), now=later
    )
    assert other.status == RegistrationStatus.CONFIRMED and other.contingent_id is not None
    counts = rules.seat_counts(session, now=later)
    assert (counts.taken, counts.reserved, counts.waitlisted) == (5, 0, 1)


def test_a_seat_released_before_the_job_runs_goes_to_who_was_waiting(ctx):
    """A contingent's release time passes and the release job has not run yet: the next
    registration must not take the released seat from the person already waiting."""
    now = utcnow()
    session = make_session(capacity=2)
    partner = _partner_member()
    contingents.set_contingent(
        session, partner.organisation, seats=1, release_at=now + timedelta(hours=1), now=now
    )
    first, waiting = (rules.register_for_session(session, applicant(n), now=now) for n in (1, 2))
    assert (first.status, waiting.status) == ("confirmed", "waitlisted")
    db.session.commit()

    later = now + timedelta(hours=2)  # released, the job not run yet
    newcomer = rules.register_for_session(session, applicant(3), now=later)
    db.session.commit()
    assert waiting.status == RegistrationStatus.CONFIRMED
    assert newcomer.status == RegistrationStatus.WAITLISTED
    assert f"registration:{waiting.id}:promoted" in keys()
    assert contingents.release_due_contingents(now=later) == 0  # handed over already


def _details(session, *, capacity: int) -> scheduling.SessionDetails:
    return scheduling.SessionDetails(
        venue_name=session.venue_name,
        venue_address=session.venue_address,
        host_organisation=session.host_organisation,
        capacity=capacity,
        languages=session.languages,
        interpreting=session.interpreting,
        note=session.note,
    )


def test_lowering_capacity_after_a_release_time_gives_the_released_seat(ctx):
    """A contingent's release time has passed, its job has not run, and the organiser then
    lowers the capacity: the person waiting gets the seat that is now public, at once."""
    now = utcnow()
    session = make_session(capacity=2)
    partner = _partner_member()
    contingents.set_contingent(
        session, partner.organisation, seats=2, release_at=now + timedelta(hours=1), now=now
    )
    waiting = rules.register_for_session(session, applicant(1), now=now)
    assert waiting.status == RegistrationStatus.WAITLISTED
    db.session.commit()

    later = now + timedelta(hours=2)
    scheduling.update_session_details(session, _details(session, capacity=1), now=later)
    db.session.commit()
    assert waiting.status == RegistrationStatus.CONFIRMED
