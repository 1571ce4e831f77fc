"""Registration rules: seats, the waitlist and cancellation.

Every function that changes seats first locks the session row (`lock_session`), so the
count it reads cannot change before the caller commits. On PostgreSQL that is a row lock;
on SQLite the transaction already holds the database's write lock (BEGIN IMMEDIATE, see
`eventsapp.database.configure_sqlite`), which `with_for_update()` leaves as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from eventsapp.database import db
from eventsapp.mail import notifications
from eventsapp.models import (
    SEAT_HOLDING,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
)
from eventsapp.services.tokens import (
    REGISTRATION,
    derive_token,
    hash_token,
    new_nonce,
)


class RegistrationError(Exception):
    """A registration change that the rules do not allow; the message is for the user."""


class RegistrationClosed(RegistrationError):
    pass


class AlreadyRegistered(RegistrationError):
    def __init__(self, registration: Registration) -> None:
        super().__init__("already registered")
        self.registration = registration


@dataclass(frozen=True)
class Applicant:
    name: str
    email: str  # already normalised (services.emails.normalise_email)
    organisation_name: str = ""
    language: str = "de"


@dataclass(frozen=True)
class SeatCounts:
    capacity: int
    taken: int
    waitlisted: int

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken, 0)


def lock_session(session_id: int) -> Session:
    """Load the session with a write lock held until the transaction ends."""
    stmt = (
        select(Session)
        .where(Session.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.execute(stmt).scalar_one()


def registration_open(session: Session, *, now: datetime) -> bool:
    if session.status != SessionStatus.PUBLISHED:
        return False
    if session.registration_opens_at and now < session.registration_opens_at:
        return False
    return now < session.registration_deadline


def seat_counts(session: Session) -> SeatCounts:
    return seat_counts_for([session])[session.id]


def seat_counts_for(sessions: list[Session]) -> dict[int, SeatCounts]:
    """Seats taken and waitlist length for many sessions in one query."""
    ids = [s.id for s in sessions]
    taken: dict[int, int] = dict.fromkeys(ids, 0)
    waiting: dict[int, int] = dict.fromkeys(ids, 0)
    if ids:
        rows = db.session.execute(
            select(Registration.session_id, Registration.status, func.count())
            .where(Registration.session_id.in_(ids))
            .where(Registration.status != RegistrationStatus.CANCELLED)
            .group_by(Registration.session_id, Registration.status)
        )
        for session_id, status, count in rows:
            if status in SEAT_HOLDING:
                taken[session_id] += count
            elif status == RegistrationStatus.WAITLISTED:
                waiting[session_id] += count
    return {s.id: SeatCounts(s.capacity, taken[s.id], waiting[s.id]) for s in sessions}


def find_active_registration(session: Session, email: str) -> Registration | None:
    return db.session.execute(
        select(Registration)
        .where(Registration.session_id == session.id, Registration.email == email)
        .where(Registration.status != RegistrationStatus.CANCELLED)
    ).scalar_one_or_none()


def find_registration_by_token(token: str) -> Registration | None:
    if not token or len(token) > 100:
        return None
    return db.session.execute(
        select(Registration).where(Registration.token_hash == hash_token(token))
    ).scalar_one_or_none()


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next person to get a seat; None when not on the waitlist."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = db.session.execute(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.session_id == registration.session_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            (Registration.created_at < registration.created_at)
            | (
                (Registration.created_at == registration.created_at)
                & (Registration.id < registration.id)
            ),
        )
    ).scalar_one()
    return ahead + 1


def _seat_status(session: Session) -> RegistrationStatus:
    if session.format.approval_required:
        return RegistrationStatus.PENDING
    return RegistrationStatus.CONFIRMED


def register_for_session(session: Session, applicant: Applicant, *, now: datetime) -> Registration:
    """Give the applicant a seat if one is free, else a place on the waitlist.

    Holds a lock on the session until the caller commits, so two people can never take the
    same last seat. Queues the matching confirmation or waitlist mail.
    Raises RegistrationClosed, or AlreadyRegistered when the email already has an active
    registration for this session (no second row is written).
    """
    session = lock_session(session.id)
    if not registration_open(session, now=now):
        raise RegistrationClosed("registration closed")
    existing = find_active_registration(session, applicant.email)
    if existing is not None:
        raise AlreadyRegistered(existing)

    fill_free_seats(session, now=now)  # nobody may jump a waitlist left over from before
    counts = seat_counts(session)
    status = _seat_status(session) if counts.left > 0 else RegistrationStatus.WAITLISTED
    nonce = new_nonce()
    registration = Registration(
        session=session,
        name=applicant.name,
        email=applicant.email,
        organisation_name=applicant.organisation_name,
        language=applicant.language,
        status=status,
        created_at=now,
        updated_at=now,
        consented_at=now,
        token_nonce=nonce,
        token_hash=hash_token(derive_token(REGISTRATION, nonce)),
    )
    db.session.add(registration)
    db.session.flush()
    notifications.registration_received(registration, now=now)
    return registration


def fill_free_seats(session: Session, *, now: datetime) -> list[Registration]:
    """Give free seats to the waitlist, first come first served, and tell those promoted.

    The caller must hold the session lock (`lock_session`).
    """
    free = seat_counts(session).left
    if free <= 0:
        return []
    promoted = list(
        db.session.execute(
            select(Registration)
            .where(
                Registration.session_id == session.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.created_at, Registration.id)
            .limit(free)
        ).scalars()
    )
    for registration in promoted:
        registration.status = _seat_status(session)
        registration.updated_at = now
        notifications.registration_promoted(registration, now=now)
    db.session.flush()
    return promoted


def cancel_registration(registration: Registration, *, now: datetime) -> list[Registration]:
    """Cancel a registration; a freed seat goes to the next on the waitlist at once.

    Returns the registrations promoted in its place. Raises RegistrationError when the
    registration is already cancelled or the session has begun.
    """
    session = lock_session(registration.session_id)
    db.session.refresh(registration)
    if registration.status == RegistrationStatus.CANCELLED:
        raise RegistrationError("already cancelled")
    if now >= session.starts_at:
        raise RegistrationClosed("session has started")
    held_seat = registration.holds_seat
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    registration.updated_at = now
    db.session.flush()
    notifications.registration_cancelled(registration, now=now)
    if held_seat and session.status == SessionStatus.PUBLISHED:
        return fill_free_seats(session, now=now)
    return []


def resend_manage_link(registration: Registration, *, now: datetime) -> None:
    """Mail the manage link again to the registered address (at most once an hour).

    Used when someone registers twice: the page reveals nothing about the registration,
    the mailbox owner gets their link.
    """
    notifications.manage_link(registration, now=now)
