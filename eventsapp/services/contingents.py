"""Partner seat contingents: seats of a session kept for one partner until a release time."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from eventsapp.database import core_connection, db
from eventsapp.models import Contingent, Organisation, OrganisationKind, Session
from eventsapp.services import partner_registrations, seats
from eventsapp.services.recurrence import RecurrenceError
from eventsapp.services.seats import fill_free_seats, lock_session, seat_ledger


class ContingentError(RecurrenceError):
    """A contingent the rules do not allow; `message` is for the organiser."""


def set_contingent(
    session: Session,
    organisation: Organisation,
    *,
    seats: int,
    release_at: datetime,
    now: datetime,
) -> Contingent:
    """Reserve (or change) a partner's seats; the public pool must still add up. The
    partner's members are mailed about a new contingent or a change."""
    session = lock_session(session.id)
    if organisation.kind != OrganisationKind.PARTNER:
        raise ContingentError(
            _l("Kontingente gibt es nur für Partnerorganisationen."), field="organisation"
        )
    if release_at > session.starts_at:
        raise ContingentError(
            _l("Die Freigabe muss vor dem Beginn des Termins liegen."), field="release_at"
        )
    if release_at <= now:
        # Seats kept until a moment already gone would be public the instant they are saved.
        raise ContingentError(_l("Die Freigabe muss in der Zukunft liegen."), field="release_at")
    contingent = db.session.execute(
        select(Contingent).where(
            Contingent.session_id == session.id, Contingent.organisation_id == organisation.id
        )
    ).scalar_one_or_none()
    event = "changed"
    if contingent is None:
        event = "created"
        contingent = Contingent(
            session_id=session.id,
            organisation=organisation,
            seats=0,
            release_at=release_at,
            created_at=now,
        )
        db.session.add(contingent)
    elif contingent.seats == seats and contingent.release_at == release_at:
        event = None  # saved again unchanged: nothing to tell
    if contingent.release_at != release_at:
        contingent.release_notice_sent_at = None  # a new release time gets its own notice
    contingent.seats = seats
    contingent.release_at = release_at
    contingent.released_handled_at = None
    db.session.flush()
    ledger = seat_ledger(session, now=now)
    if ledger.taken + ledger.reserved > session.capacity:
        raise ContingentError(
            _l(
                "So viele Plätze sind nicht mehr frei (frei: %(free)d).",
                free=max(session.capacity - ledger.taken - ledger.reserved + seats, 0),
            ),
            field="seats",
        )
    fill_free_seats(session.id, now=now)  # fewer kept seats: the waitlist may move up
    if event is not None:
        partner_registrations.notify_contingent(contingent, event, now=now)
    return contingent


def remove_contingent(contingent: Contingent, *, now: datetime) -> None:
    """Give a contingent's unused seats back to everyone at once."""
    session = lock_session(contingent.session_id)
    db.session.delete(contingent)
    fill_free_seats(session.id, now=now)


def release_due_contingents(*, now: datetime) -> int:
    """Hand the unused seats of contingents past their release time to the waitlist, once.

    Seats count as public from the release time on anyway (a registration that meets a
    waitlist then hands them over itself); this moves waiting people into them when nobody
    registers. Returns how many people got a seat.
    """
    due = db.session.execute(
        select(Contingent.session_id, Contingent.id)
        .where(Contingent.release_at <= now, Contingent.released_handled_at.is_(None))
        .order_by(Contingent.session_id, Contingent.id)
    ).all()
    by_session: dict[int, list[int]] = {}
    for session_id, contingent_id in due:
        by_session.setdefault(session_id, []).append(contingent_id)
    db.session.flush()
    connection = core_connection(writes=True)
    promoted = 0
    for session_id, contingent_ids in by_session.items():
        terms = seats.lock(connection, session_id)
        promoted += len(seats.release(connection, terms, contingent_ids, now=now))
    return promoted
