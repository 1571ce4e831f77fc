"""The arithmetic of the seat rules, without a database: what a session's seats are,
who may take one, and the errors the rules raise. `eventsapp.services.seats` reads these
from the database under the session's lock and acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from eventsapp.database import db
from eventsapp.models import Contingent, Registration, RegistrationStatus, SessionStatus, Visibility
from eventsapp.models.session import registration_deadline

REQUEST, CANCEL = "REQUEST", "CANCEL"  # the calendar invitation a mail carries


class RegistrationError(Exception):
    """A registration change that the rules do not allow."""


class RegistrationClosed(RegistrationError):
    pass


class NoSuchSession(RegistrationError):
    """The session does not exist, or the audience asked about may not see it."""


class AlreadyRegistered(RegistrationError):
    def __init__(self, registration_id: int) -> None:
        super().__init__("already registered")
        self.registration_id = registration_id

    @property
    def registration(self) -> Registration:
        return db.session.get(Registration, self.registration_id)


@dataclass(frozen=True)
class Placement:
    """A registration given a place just now: what its request and its mail need of it."""

    id: int
    email: str
    language: str
    status: RegistrationStatus
    token_nonce: str = ""


@dataclass(frozen=True)
class Terms:
    """What decides about seats in the session itself, read as its lock is taken."""

    id: int
    status: SessionStatus
    capacity: int
    starts_at: datetime
    ends_at: datetime
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    approval_required: bool
    visibility: Visibility

    @property
    def registration_deadline(self) -> datetime:
        return registration_deadline(self.starts_at, self.registration_closes_at)

    @property
    def seat_status(self) -> RegistrationStatus:
        """What a seat given now is held as."""
        return (
            RegistrationStatus.PENDING if self.approval_required else RegistrationStatus.CONFIRMED
        )

    def moves_up(self, now: datetime) -> bool:
        """Whether the waitlist still moves: a published session that has not begun."""
        return self.status == SessionStatus.PUBLISHED and now < self.starts_at


@dataclass(frozen=True)
class SeatCounts:
    """What a visitor sees: seats left in the public pool and the waitlist length."""

    capacity: int
    taken: int
    waitlisted: int
    reserved: int = 0  # contingent seats not yet used and not yet released

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken - self.reserved, 0)


@dataclass
class Quota:
    contingent_id: int
    organisation_id: int
    seats: int
    used: int

    @property
    def free(self) -> int:
        return max(self.seats - self.used, 0)


@dataclass
class SeatLedger:
    """Who may still take a seat of one session, contingents included.

    Unused seats of an unreleased contingent are kept for that partner; everyone else draws
    from the public pool. Seats already taken from a contingent stay taken after release.
    """

    capacity: int
    taken: int
    quotas: dict[int, Quota] = field(default_factory=dict)  # unreleased, by organisation id
    waitlist: bool = False  # someone is on the waitlist
    registered_id: int | None = None  # the active registration of the address asked about
    # Contingents past their release time whose seats have not been offered to the waitlist.
    releases_due: list[int] = field(default_factory=list)

    @property
    def reserved(self) -> int:
        return sum(q.free for q in self.quotas.values())

    @property
    def public_left(self) -> int:
        return max(self.capacity - self.taken - self.reserved, 0)

    def left_for(self, organisation_id: int | None) -> int:
        quota = self.quotas.get(organisation_id) if organisation_id else None
        return self.public_left + (quota.free if quota else 0)

    def take(self, organisation_id: int | None) -> int | None:
        """Take a seat; returns the contingent it came from (None for the public pool)."""
        quota = self.quotas.get(organisation_id) if organisation_id else None
        if quota and quota.free > 0:
            quota.used += 1
            self.taken += 1
            return quota.contingent_id
        if self.public_left <= 0:
            raise RegistrationError("no seat left")
        self.taken += 1
        return None

    def counts(self, waitlisted: int) -> SeatCounts:
        return SeatCounts(self.capacity, self.taken, waitlisted, self.reserved)


def quotas_of(contingents, used: dict[int | None, int], now: datetime) -> dict[int, Quota]:
    """The contingents still kept, from (id, organisation id, seats, release time) rows."""
    return {
        organisation_id: Quota(contingent_id, organisation_id, seats, used.get(contingent_id, 0))
        for contingent_id, organisation_id, seats, release_at in contingents
        if not Contingent.released(release_at, now)
    }
