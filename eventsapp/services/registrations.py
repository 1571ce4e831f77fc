"""Registrations: taking a place, cancelling, approval, the waitlist, check-in.

The seat rules themselves (who gets a seat, contingents, the waitlist's order, promotion)
live in `eventsapp.services.seats`; every change here that can give or free a seat goes
through it, under the session's lock. This module works with the ORM objects the pages and
jobs hold, and decides which mail each change gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import joinedload

from eventsapp.database import core_connection, db
from eventsapp.mail.outbox import enqueue_deferred, queue_about
from eventsapp.models import (
    SEAT_HOLDING,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
    User,
    Visibility,
)
from eventsapp.models.registration import waitlist_position as waitlist_position
from eventsapp.services import seats
from eventsapp.services.ledger import (
    CANCEL,
    REQUEST,
    AlreadyRegistered,
    NoSuchSession,
    Placement,
    RegistrationClosed,
    RegistrationError,
    SeatCounts,
    SeatLedger,
    Terms,
)
from eventsapp.services.seats import fill_free_seats, lock_session, seat_ledger
from eventsapp.services.sessions import VISIBLE_STATUSES
from eventsapp.tokens import REGISTRATION, derive_token, hash_token, new_nonce

__all__ = [
    "AlreadyRegistered",
    "Applicant",
    "NoSuchSession",
    "Placement",
    "RegistrationClosed",
    "RegistrationError",
    "SeatCounts",
    "SeatLedger",
    "fill_free_seats",
    "lock_session",
    "seat_ledger",
]


@dataclass(frozen=True)
class Applicant:
    name: str
    email: str  # already normalised (eventsapp.emails.normalise_email)
    organisation_name: str = ""
    language: str = "de"
    user_id: int | None = None
    # The partner organisation whose contingent the applicant may use (account holders).
    partner_organisation_id: int | None = None
    question: str = ""  # asked ahead, see Registration.question
    question_named: bool = False

    @classmethod
    def from_user(cls, user: User, language: str | None = None) -> Applicant:
        return cls(
            name=user.name,
            email=user.email,
            organisation_name=user.organisation.name if user.organisation else "",
            language=language or user.language,
            user_id=user.id,
            partner_organisation_id=user.organisation_id if user.is_partner else None,
        )


def registration_open(session: Session | Terms, *, now: datetime) -> bool:
    if session.status != SessionStatus.PUBLISHED:
        return False
    if session.registration_opens_at and now < session.registration_opens_at:
        return False
    return now < session.registration_deadline


def seat_counts(session: Session, *, now: datetime) -> SeatCounts:
    return seat_counts_for([session], now=now)[session.id]


def seat_counts_for(sessions: list[Session], *, now: datetime) -> dict[int, SeatCounts]:
    return seats.counts_for(sessions, now=now)


def find_registration_by_token(token: str) -> Registration | None:
    if not token or len(token) > 100:
        return None
    return db.session.execute(
        select(Registration).where(Registration.token_hash == hash_token(token))
    ).scalar_one_or_none()


def registrations_of(email: str) -> list[Registration]:
    """Every registration of an address, any status, with its session and format, the
    latest date first. Anonymised ones hold no address any more and are not among them."""
    return list(
        db.session.execute(
            select(Registration)
            .join(Session, Session.id == Registration.session_id)
            .where(Registration.email == email)
            .options(joinedload(Registration.session).joinedload(Session.format))
            .order_by(Session.starts_at.desc(), Registration.id.desc())
        ).scalars()
    )


def waitlist(session: Session) -> list[Registration]:
    return list(
        db.session.execute(
            select(Registration)
            .where(
                Registration.session_id == session.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(*seats.WAITLIST_ORDER)
        ).scalars()
    )


def register_for_session(
    session: Session | int, applicant: Applicant, *, now: datetime, by_organiser: bool = False
) -> Registration:
    """`take_place`, returning the registration itself."""
    placement = take_place(
        session if isinstance(session, int) else inspect(session).identity[0],
        applicant,
        now=now,
        by_organiser=by_organiser,
    )
    return db.session.get(Registration, placement.id)


def take_place(
    session_id: int,
    applicant: Applicant,
    *,
    now: datetime,
    by_organiser: bool = False,
    audience: tuple[Visibility, ...] | None = None,
) -> Placement:
    """Give the applicant a seat if one is free to them, else a place on the waitlist
    (`seats.place`), and queue the matching mail.

    Holds the session's lock until the caller commits, so two people can never take the
    same last seat. Organisers adding someone by hand may do so until the session ends; the
    seat rules are the same.

    Raises NoSuchSession (also when `audience`, the format visibilities the person may see,
    is given and the session is a draft or not among them), RegistrationClosed, or
    AlreadyRegistered when the email already has an active registration for this session
    (no second row is written).
    """
    nonce = new_nonce()
    token_hash = hash_token(derive_token(REGISTRATION, nonce))
    db.session.flush()  # the statements below run on the connection, without autoflush
    connection = core_connection(writes=True)
    terms = seats.lock(connection, session_id)
    if terms is None:
        raise NoSuchSession(session_id)
    if audience is not None and (
        terms.status not in VISIBLE_STATUSES or terms.visibility not in audience
    ):
        raise NoSuchSession(session_id)
    if by_organiser:
        if terms.status != SessionStatus.PUBLISHED or now >= terms.ends_at:
            raise RegistrationClosed("session not open for additions")
    elif not registration_open(terms, now=now):
        raise RegistrationClosed("registration closed")
    values = {
        "session_id": session_id,
        "name": applicant.name,
        "email": applicant.email,
        "organisation_name": applicant.organisation_name,
        "language": applicant.language,
        "user_id": applicant.user_id,
        "organisation_id": applicant.partner_organisation_id,
        "question": applicant.question,
        "question_named": applicant.question_named and bool(applicant.question),
        "created_at": now,
        "updated_at": now,
        "consented_at": None if by_organiser else now,
        "token_nonce": nonce,
        "token_hash": token_hash,
    }
    return seats.place(
        connection,
        terms,
        values,
        partner_organisation_id=applicant.partner_organisation_id,
        now=now,
    )


_STATUS = select(Registration.status)


def _locked(registration: Registration) -> tuple[Connection, Terms, RegistrationStatus]:
    """Lock the registration's session; its terms and the registration's status as they are
    now (not as the object last saw them)."""
    db.session.flush()
    connection = core_connection(writes=True)
    terms = seats.lock(connection, registration.session_id)
    status = connection.execute(_STATUS.where(Registration.id == registration.id)).scalar_one()
    return connection, terms, status


def _set(connection: Connection, registration: Registration, **values) -> None:
    connection.execute(
        update(Registration).where(Registration.id == registration.id).values(**values)
    )
    db.session.expire(registration)


def cancel_registration(registration: Registration, *, now: datetime) -> list[Registration]:
    """Cancel a registration; a freed seat goes to the next on the waitlist at once.

    Returns the registrations promoted in its place. Raises RegistrationError when the
    registration is no longer active or the session has begun.
    """
    connection, terms, status = _locked(registration)
    if status not in (*SEAT_HOLDING, RegistrationStatus.WAITLISTED):
        raise RegistrationError("not active")
    if now >= terms.starts_at:
        raise RegistrationClosed("session has started")
    _set(
        connection,
        registration,
        status=RegistrationStatus.CANCELLED,
        cancelled_at=now,
        updated_at=now,
    )
    # Only a confirmed place was ever in their calendar: the waitlist and a pending request
    # got no invitation, so there is nothing to take back.
    uninvite = CANCEL if status == RegistrationStatus.CONFIRMED else None
    queue_about(registration, "cancelled", "registration_cancelled", now, uninvite)
    if status not in SEAT_HOLDING:
        return []
    return seats.loaded(seats.promote(connection, terms, now=now))


def approve_registration(registration: Registration, *, now: datetime) -> None:
    """Confirm a pending registration; the person is mailed."""
    connection, _terms, status = _locked(registration)
    if status != RegistrationStatus.PENDING:
        raise RegistrationError("not pending")
    _set(
        connection,
        registration,
        status=RegistrationStatus.CONFIRMED,
        decided_at=now,
        updated_at=now,
    )
    queue_about(registration, "approved", "registration_confirmed", now, REQUEST)


def reject_registration(registration: Registration, *, now: datetime) -> list[Registration]:
    """Decline a pending registration; its seat goes to the waitlist at once."""
    connection, terms, status = _locked(registration)
    if status != RegistrationStatus.PENDING:
        raise RegistrationError("not pending")
    _set(
        connection,
        registration,
        status=RegistrationStatus.REJECTED,
        decided_at=now,
        updated_at=now,
    )
    # A pending request was never invited: its rejection takes nothing back (no CANCEL).
    queue_about(registration, "rejected", "registration_rejected", now)
    return seats.loaded(seats.promote(connection, terms, now=now))


def move_to_top_of_waitlist(registration: Registration, *, now: datetime) -> None:
    """Put a waitlisted person first in line (an organiser's decision).

    Nobody is seated by it: nobody waits while a seat is free to them (see `seats`), so the
    order decides only who gets the next seat that frees.
    """
    connection, terms, status = _locked(registration)
    if status != RegistrationStatus.WAITLISTED:
        raise RegistrationError("not waitlisted")
    top = connection.execute(
        select(func.max(Registration.waitlist_priority)).where(
            Registration.session_id == terms.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
    ).scalar_one()
    _set(connection, registration, waitlist_priority=(top or 0) + 1, updated_at=now)


def set_attendance(registration: Registration, attended: bool, *, now: datetime) -> None:
    """Record check-in at the door (or undo it)."""
    if registration.status != RegistrationStatus.CONFIRMED:
        raise RegistrationError("only confirmed registrations can check in")
    registration.attended = attended
    registration.checked_in_at = now if attended else None


def question_open(registration: Registration, *, now: datetime) -> bool:
    """A question may be sent, changed or withdrawn while the registration is active and the
    session has not begun."""
    return registration.is_active and now < registration.session.starts_at


def set_question(registration: Registration, text: str, named: bool, *, now: datetime) -> None:
    """Send, change or (with an empty text) withdraw the question asked ahead."""
    if not question_open(registration, now=now):
        raise RegistrationError("the question can no longer be changed")
    registration.question = text
    registration.question_named = named and bool(text)
    registration.updated_at = now


def resend_manage_link(registration_id: int, email: str, language: str, *, now: datetime) -> None:
    """Mail the manage link again to the registered address, in the language of the form
    just sent.

    Used when someone registers twice: the page reveals nothing about the registration,
    the mailbox owner gets their link. As cheap as the mail of a new registration (one
    prepared insert), so the answer's timing does not tell the two apart either: the time
    makes the key new, and the per-address rate limit bounds how often.
    """
    enqueue_deferred(
        dedupe_key=f"registration:{registration_id}:link:{now.isoformat()}",
        recipient=email,
        language=language,
        template="registration_link",
        registration_id=registration_id,
        now=now,
        new_key=True,
    )
