"""The door: check-in by code (scanned or read aloud), by name, and from devices that were
offline; people who come without registering (walk-ins).

A check-in is idempotent: the same person checked in twice, on one device or on two that
were offline, counts once, and the earliest time is kept.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, update

from eventsapp.database import db
from eventsapp.models import Registration, RegistrationStatus, Session, SessionStatus
from eventsapp.models.registration import NO_ADDRESS
from eventsapp.services import registrations as rules
from eventsapp.services.participants import checkin_list, list_registrations
from eventsapp.tokens import checkin_code, code_hash, normalise_code

# A device's clock may be off; a time before this much ahead of the start, or later than
# the server's now, is taken as the limit instead.
EARLIEST = timedelta(hours=12)
# How long after its end a session's list may stay on a device.
KEEP_AFTER_END = timedelta(hours=6)


class CheckinError(Exception):
    """A check-in or walk-in that cannot be done; `message` says why, for the page."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Outcome:
    kind: str  # "checked-in", "already" (at `at`, before this one) or "unknown"
    registration: Registration | None = None
    at: datetime | None = None


def door_open(session: Session, *, now: datetime) -> bool:
    """Check-ins are taken for a published session until some hours after its end."""
    return session.status == SessionStatus.PUBLISHED and now < session.ends_at + KEEP_AFTER_END


def find_by_code(session: Session, text: str) -> Registration | None:
    """The confirmed registration of this session whose code `text` is (typed or scanned);
    None for any other code, a manage token or a code of another session included."""
    code = normalise_code(text or "")
    if code is None:
        return None
    for registration in list_registrations(session, status=RegistrationStatus.CONFIRMED):
        if hmac.compare_digest(checkin_code(registration), code):
            return registration
    return None


def _clamped(session: Session, at: datetime, now: datetime) -> datetime:
    return min(max(at, session.starts_at - EARLIEST), now)


def record(session: Session, registration_id: int, *, at: datetime, now: datetime) -> Outcome:
    """Check one confirmed person of this session in at `at`; the earliest time wins."""
    at = _clamped(session, at, now)
    registration = db.session.get(Registration, registration_id)
    if (
        registration is None
        or registration.session_id != session.id
        or registration.status != RegistrationStatus.CONFIRMED
    ):
        return Outcome("unknown")
    before = registration.checked_in_at if registration.attended else None
    # One statement, so two devices syncing the same person at once keep the earlier time.
    db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id)
        .values(
            attended=True,
            checked_in_at=case(
                (
                    Registration.checked_in_at.is_(None)
                    | (Registration.attended.is_not(True))
                    | (Registration.checked_in_at > at),
                    at,
                ),
                else_=Registration.checked_in_at,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(registration)
    if before is not None and before <= at:
        return Outcome("already", registration, before)
    return Outcome("checked-in", registration, registration.checked_in_at)


def by_code(session: Session, text: str, *, now: datetime) -> Outcome:
    registration = find_by_code(session, text)
    if registration is None:
        return Outcome("unknown")
    return record(session, registration.id, at=now, now=now)


def sync(session: Session, entries: list[tuple[int, datetime]], *, now: datetime) -> list[Outcome]:
    """Check-ins a device made while offline (registration id and its time), in any order;
    ids of other sessions or of people without a confirmed place are left out."""
    return [record(session, registration_id, at=at, now=now) for registration_id, at in entries]


def offline_list(session: Session) -> list[dict]:
    """What the check-in page keeps on the device for this session: names, what tells
    namesakes apart, a hash of each code (to test a scanned code, not the code itself)
    and who is checked in since when."""
    return [
        {
            "id": arrival.registration.id,
            "name": arrival.registration.name,
            "hint": arrival.namesake_hint or arrival.registration.organisation_name or "",
            "code": code_hash(checkin_code(arrival.registration)),
            "at": arrival.registration.checked_in_at.isoformat()
            if arrival.registration.attended and arrival.registration.checked_in_at
            else None,
        }
        for arrival in checkin_list(session)
    ]


def add_walk_in(session: Session, name: str, email: str | None, *, now: datetime) -> Registration:
    """Someone at the door without a registration: a seat under the same rules as anyone
    (no seat, no entry: a waitlist is no use at the door), checked in at once. Without an
    address they get no mail; with one, the usual confirmation with their link."""
    address = email or f"walk-in-{secrets.token_hex(8)}{NO_ADDRESS}"
    language = (session.language_codes or ["de"])[0]
    applicant = rules.Applicant(name=name, email=address, language=language)
    try:
        placement = rules.take_place(session.id, applicant, now=now, by_organiser=True)
    except rules.AlreadyRegistered as error:
        raise CheckinError("already", field="email") from error
    except rules.RegistrationClosed as error:
        raise CheckinError("closed") from error
    registration = db.session.get(Registration, placement.id)
    if registration.status != RegistrationStatus.CONFIRMED:
        raise CheckinError("full")
    registration.walk_in = True
    db.session.flush()
    record(session, registration.id, at=now, now=now)
    return registration
