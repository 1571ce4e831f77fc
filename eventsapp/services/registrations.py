"""Registration rules: seats, partner contingents, the waitlist, approval and cancellation.

Every function that changes seats first locks the session row (`lock_session`; `take_place`
does it in the statement that reads the session's terms), so the counts it reads cannot
change before the caller commits. On PostgreSQL that is a row lock;
on SQLite the transaction already holds the database's write lock (BEGIN IMMEDIATE, see
`eventsapp.database.configure_sqlite`), which `with_for_update()` leaves as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    bindparam,
    exists,
    func,
    inspect,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import joinedload

from eventsapp.database import core_connection, db
from eventsapp.mail import notifications
from eventsapp.models import (
    ACTIVE,
    SEAT_HOLDING,
    Contingent,
    Format,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
    User,
    Visibility,
)
from eventsapp.models.registration import ACTIVE_ONLY, SEAT_HOLDING_ONLY
from eventsapp.models.session import registration_deadline
from eventsapp.services.sessions import VISIBLE_STATUSES
from eventsapp.services.tokens import REGISTRATION, derive_token, hash_token, new_nonce


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
class Applicant:
    name: str
    email: str  # already normalised (services.emails.normalise_email)
    organisation_name: str = ""
    language: str = "de"
    user_id: int | None = None
    # The partner organisation whose contingent the applicant may use (account holders).
    partner_organisation_id: int | None = None

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
class _Quota:
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
    quotas: dict[int, _Quota] = field(default_factory=dict)  # by organisation id
    waitlist: bool = False  # someone is on the waitlist
    registered_id: int | None = None  # the active registration of the address asked about

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


def lock_session(session_id: int) -> Session:
    """Load the session with a write lock held until the transaction ends."""
    stmt = (
        select(Session)
        .where(Session.id == session_id)
        # The rules ask for the format anyway. Not the contingents: on PostgreSQL a statement
        # that waits for the lock sees other rows as they were before it waited, so they are
        # read by the seat query, which runs after the lock is held.
        .options(joinedload(Session.format, innerjoin=True))
        .with_for_update(of=Session)
        .execution_options(populate_existing=True)
    )
    return db.session.execute(stmt).scalar_one()


def registration_open(session: Session, *, now: datetime) -> bool:
    if session.status != SessionStatus.PUBLISHED:
        return False
    if session.registration_opens_at and now < session.registration_opens_at:
        return False
    return now < session.registration_deadline


# Built once: a registration runs this under the seat lock, where every microsecond spent
# building a statement is one that all other registrations of the session wait. After the
# lock is held, it reads the session's contingents, the seats held by contingent (at most
# the capacity), and no more than one index entry each for "anyone on the waitlist?" and
# "is this address registered already?", so its cost does not grow with the waitlist.
# Columns: kind, contingent id, seats or count, organisation id, release time.
_SESSION = bindparam("session_id")
_CONTINGENT, _HELD, _WAITLIST, _MINE = "contingent", "held", "waitlist", "mine"
_SEATS = union_all(
    # First, so that the columns take its types (the release time is read as UTC).
    select(
        literal_column(f"'{_CONTINGENT}'"),
        Contingent.id,
        Contingent.seats,
        Contingent.organisation_id,
        Contingent.release_at,
    ).where(Contingent.session_id == _SESSION),
    select(literal_column(f"'{_HELD}'"), Registration.contingent_id, func.count(), null(), null())
    .where(Registration.session_id == _SESSION, SEAT_HOLDING_ONLY)  # ix_registrations_seats_held
    .group_by(Registration.contingent_id),
    select(literal_column(f"'{_WAITLIST}'"), null(), literal_column("1"), null(), null()).where(
        exists().where(
            Registration.session_id == _SESSION,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
    ),
    # At most one row: the partial unique index (session, email) allows one active
    # registration per address, and the lookup reads that index.
    select(
        literal_column(f"'{_MINE}'"), Registration.id, literal_column("1"), null(), null()
    ).where(
        Registration.session_id == _SESSION,
        Registration.email == bindparam("email"),
        ACTIVE_ONLY,
    ),
)


def seat_ledger(session: Session, *, now: datetime) -> SeatLedger:
    """The session's seats, contingents included, in one query (the caller holds the lock
    when it acts on them)."""
    db.session.flush()  # changes to registrations not yet flushed count
    return _ledger(core_connection(writes=False), session.id, session.capacity, now=now)


def _ledger(
    connection: Connection,
    session_id: int,
    capacity: int,
    *,
    now: datetime,
    email: str | None = None,
) -> SeatLedger:
    """With `email`, also the active registration that address holds already, if any
    (`ledger.registered_id`)."""
    rows = connection.execute(_SEATS, {"session_id": session_id, "email": email or ""})
    contingents = []
    used: dict[int | None, int] = {}
    waitlist = False
    registered_id = None
    for kind, contingent_id, count, organisation_id, release_at in rows:
        if kind == _CONTINGENT:
            contingents.append((contingent_id, organisation_id, count, release_at))
        elif kind == _HELD:
            used[contingent_id] = count
        elif kind == _WAITLIST:
            waitlist = True
        else:
            registered_id = contingent_id
    quotas = {
        organisation_id: _Quota(contingent_id, organisation_id, seats, used.get(contingent_id, 0))
        for contingent_id, organisation_id, seats, release_at in contingents
        if not Contingent.released(release_at, now)
    }
    return SeatLedger(capacity, sum(used.values()), quotas, waitlist, registered_id)


def _contingents(session_ids: list[int]) -> list[Contingent]:
    if not session_ids:
        return []
    return list(
        db.session.execute(
            select(Contingent).where(Contingent.session_id.in_(session_ids))
        ).scalars()
    )


def seat_counts(session: Session, *, now: datetime) -> SeatCounts:
    return seat_counts_for([session], now=now)[session.id]


def seat_counts_for(sessions: list[Session], *, now: datetime) -> dict[int, SeatCounts]:
    """Seats taken, reserved and waitlisted for many sessions in two queries."""
    ids = [s.id for s in sessions]
    taken: dict[int, int] = dict.fromkeys(ids, 0)
    waiting: dict[int, int] = dict.fromkeys(ids, 0)
    by_contingent: dict[int, int] = {}
    if ids:
        rows = db.session.execute(
            select(
                Registration.session_id,
                Registration.status,
                Registration.contingent_id,
                func.count(),
            )
            .where(Registration.session_id.in_(ids), Registration.status.in_(ACTIVE))
            .group_by(Registration.session_id, Registration.status, Registration.contingent_id)
        )
        for session_id, status, contingent_id, count in rows:
            if status in SEAT_HOLDING:
                taken[session_id] += count
                if contingent_id is not None:
                    by_contingent[contingent_id] = by_contingent.get(contingent_id, 0) + count
            else:
                waiting[session_id] += count
    reserved: dict[int, int] = dict.fromkeys(ids, 0)
    for contingent in _contingents(ids):
        if not contingent.is_released(now):
            free = contingent.seats - by_contingent.get(contingent.id, 0)
            reserved[contingent.session_id] += max(free, 0)
    return {
        s.id: SeatCounts(s.capacity, taken[s.id], waiting[s.id], reserved[s.id]) for s in sessions
    }


def find_registration_by_token(token: str) -> Registration | None:
    if not token or len(token) > 100:
        return None
    return db.session.execute(
        select(Registration).where(Registration.token_hash == hash_token(token))
    ).scalar_one_or_none()


def _waitlist_order():
    return (
        Registration.waitlist_priority.desc(),
        Registration.created_at,
        Registration.id,
    )


def waitlist(session: Session) -> list[Registration]:
    return list(
        db.session.execute(
            select(Registration)
            .where(
                Registration.session_id == session.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(*_waitlist_order())
        ).scalars()
    )


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next person in line; None when not on the waitlist."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ids = [r.id for r in waitlist(registration.session)]
    return ids.index(registration.id) + 1


def _partner_of(registration: Registration) -> int | None:
    user = registration.user
    return user.organisation_id if user is not None and user.is_partner else None


def _seat_status(approval_required: bool) -> RegistrationStatus:
    return RegistrationStatus.PENDING if approval_required else RegistrationStatus.CONFIRMED


@dataclass(frozen=True)
class Placement:
    """A registration just written: what its request and its mail need of it."""

    id: int
    email: str
    language: str
    status: RegistrationStatus
    token_nonce: str


@dataclass(frozen=True)
class _Terms:
    """What decides a registration about the session itself, read as its lock is taken."""

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


_TERMS = (
    select(
        Session.status,
        Session.capacity,
        Session.starts_at,
        Session.ends_at,
        Session.registration_opens_at,
        Session.registration_closes_at,
        Format.approval_required,
        Format.visibility,
    )
    .join(Format, Format.id == Session.format_id)
    .where(Session.id == bindparam("session_id"))
    .with_for_update(of=Session.__table__)
)

_INSERT_REGISTRATION = Registration.__table__.insert()


def _lock_terms(connection: Connection, session_id: int) -> _Terms | None:
    """Lock the session (as `lock_session` does) and read its terms, without the ORM."""
    row = connection.execute(_TERMS, {"session_id": session_id}).first()
    return None if row is None else _Terms(*row)


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
    """Give the applicant a seat if one is free to them, else a place on the waitlist.

    Holds a lock on the session until the caller commits, so two people can never take the
    same last seat. Partner members use their organisation's contingent first. Organisers
    adding someone by hand may do so until the session ends; the capacity rules are the same.
    Queues the matching mail.

    Raises NoSuchSession (also when `audience`, the format visibilities the person may see,
    is given and the session is a draft or not among them), RegistrationClosed, or
    AlreadyRegistered when the email already has an active registration for this session
    (no second row is written).

    Every registration waits for the one before it on the lock, so the work done while it
    is held is kept to a few prepared statements; ORM objects are loaded only when free seats
    meet a waitlist or the address is registered already.
    """
    nonce = new_nonce()
    token_hash = hash_token(derive_token(REGISTRATION, nonce))
    db.session.flush()  # the statements below run on the connection, without autoflush
    connection = core_connection(writes=True)
    terms = _lock_terms(connection, session_id)
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
    ledger = _ledger(connection, session_id, terms.capacity, now=now, email=applicant.email)
    if ledger.registered_id is not None:
        raise AlreadyRegistered(ledger.registered_id)
    # Seats and a waitlist at once, left from before: the waitlist goes first.
    has_seats = ledger.public_left + ledger.reserved > 0
    if ledger.waitlist and has_seats and fill_free_seats(lock_session(session_id), now=now):
        ledger = _ledger(connection, session_id, terms.capacity, now=now)
    contingent_id = None
    if ledger.left_for(applicant.partner_organisation_id) > 0:
        contingent_id = ledger.take(applicant.partner_organisation_id)
        status = _seat_status(terms.approval_required)
    else:
        status = RegistrationStatus.WAITLISTED
    result = connection.execute(
        _INSERT_REGISTRATION,
        {
            "session_id": session_id,
            "name": applicant.name,
            "email": applicant.email,
            "organisation_name": applicant.organisation_name,
            "language": applicant.language,
            "status": status,
            "contingent_id": contingent_id,
            "user_id": applicant.user_id,
            "created_at": now,
            "updated_at": now,
            "consented_at": None if by_organiser else now,
            "token_nonce": nonce,
            "token_hash": token_hash,
        },
    )
    placement = Placement(
        id=result.inserted_primary_key[0],
        email=applicant.email,
        language=applicant.language,
        status=status,
        token_nonce=nonce,
    )
    notifications.registration_received(placement, now=now)
    return placement


def fill_free_seats(session: Session, *, now: datetime) -> list[Registration]:
    """Give free seats to the waitlist in order, and tell those who got one.

    Someone whose only free seat would be another partner's contingent keeps waiting while
    people behind them may move up. The caller must hold the session lock.
    """
    if session.status != SessionStatus.PUBLISHED or now >= session.starts_at:
        return []
    waiting = waitlist(session)
    if not waiting:
        return []
    ledger = seat_ledger(session, now=now)
    promoted = []
    for registration in waiting:
        if ledger.public_left <= 0 and ledger.reserved <= 0:
            break
        organisation_id = _partner_of(registration)
        if ledger.left_for(organisation_id) <= 0:
            continue
        registration.contingent_id = ledger.take(organisation_id)
        registration.status = _seat_status(session.format.approval_required)
        registration.updated_at = now
        notifications.registration_promoted(registration, now=now)
        promoted.append(registration)
    db.session.flush()
    return promoted


def _locked(registration: Registration) -> Session:
    session = lock_session(registration.session_id)
    db.session.refresh(registration)
    return session


def cancel_registration(registration: Registration, *, now: datetime) -> list[Registration]:
    """Cancel a registration; a freed seat goes to the next on the waitlist at once.

    Returns the registrations promoted in its place. Raises RegistrationError when the
    registration is no longer active or the session has begun.
    """
    session = _locked(registration)
    if not registration.is_active:
        raise RegistrationError("not active")
    if now >= session.starts_at:
        raise RegistrationClosed("session has started")
    held_seat = registration.holds_seat
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    registration.updated_at = now
    db.session.flush()
    notifications.registration_cancelled(registration, now=now)
    return fill_free_seats(session, now=now) if held_seat else []


def approve_registration(registration: Registration, *, now: datetime) -> None:
    """Confirm a pending registration; the person is mailed."""
    _locked(registration)
    if registration.status != RegistrationStatus.PENDING:
        raise RegistrationError("not pending")
    registration.status = RegistrationStatus.CONFIRMED
    registration.decided_at = now
    registration.updated_at = now
    notifications.registration_approved(registration, now=now)


def reject_registration(registration: Registration, *, now: datetime) -> list[Registration]:
    """Decline a pending registration; its seat goes to the waitlist at once."""
    session = _locked(registration)
    if registration.status != RegistrationStatus.PENDING:
        raise RegistrationError("not pending")
    registration.status = RegistrationStatus.REJECTED
    registration.decided_at = now
    registration.updated_at = now
    db.session.flush()
    notifications.registration_rejected(registration, now=now)
    return fill_free_seats(session, now=now)


def move_to_top_of_waitlist(registration: Registration, *, now: datetime) -> None:
    """Put a waitlisted person first in line (an organiser's decision)."""
    session = _locked(registration)
    if registration.status != RegistrationStatus.WAITLISTED:
        raise RegistrationError("not waitlisted")
    top = db.session.execute(
        select(func.max(Registration.waitlist_priority)).where(
            Registration.session_id == session.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
    ).scalar_one()
    registration.waitlist_priority = (top or 0) + 1
    registration.updated_at = now
    db.session.flush()
    fill_free_seats(session, now=now)


def set_attendance(registration: Registration, attended: bool, *, now: datetime) -> None:
    """Record check-in at the door (or undo it)."""
    if registration.status != RegistrationStatus.CONFIRMED:
        raise RegistrationError("only confirmed registrations can check in")
    registration.attended = attended
    registration.checked_in_at = now if attended else None


def resend_manage_link(registration_id: int, email: str, language: str, *, now: datetime) -> None:
    """Mail the manage link again to the registered address, in the language of the form
    just sent.

    Used when someone registers twice: the page reveals nothing about the registration,
    the mailbox owner gets their link. As cheap as the mail of a new registration (one
    prepared insert), so the answer's timing does not tell the two apart either.
    """
    notifications.manage_link(registration_id, email, language, now=now)
