"""The seat rules of a session, in one place, for every path that changes seats.

A session has `capacity` seats. A partner contingent keeps some of them for one partner's
members until its release time; everyone else draws from the public pool. A person gets a
seat if one is free to them (their partner's kept seats first, then the public pool), else
a place on the waitlist. The waitlist's order: people an organiser moved to the top first,
then by time of registration. With approval on, a seat is held as "pending" until an
organiser decides.

The rule that keeps the waitlist honest: **nobody waits while a seat is free to them.**
Only a few changes can free a seat for someone waiting: a seat given up (cancellation,
rejection), the capacity raised, a contingent lowered, removed or released. Only those run
`promote`, which reads and changes just the people it seats. A registration never walks the
waitlist; it reads a handful of index entries (see `_SEATS`), so its cost does not grow
with the waitlist. Once a session has begun, nobody is moved up any more: the door decides.

Everything here runs on the transaction's connection after `lock` has taken the session's
row lock, held until commit: on PostgreSQL a row lock, on SQLite the database's write lock
(BEGIN IMMEDIATE, see `eventsapp.database.configure_sqlite`). So no two transactions can
give away the same seat (no overbooking). The statements are prepared Core statements: under
the lock, every microsecond is one all other registrations of the session wait.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    bindparam,
    exists,
    func,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import joinedload

from eventsapp.database import core_connection, db
from eventsapp.mail.outbox import queue_about
from eventsapp.models import (
    SEAT_HOLDING,
    Contingent,
    Format,
    Registration,
    RegistrationStatus,
    Role,
    Session,
    User,
)
from eventsapp.models.registration import ACTIVE_ONLY, SEAT_HOLDING_ONLY
from eventsapp.services.ledger import (
    REQUEST,
    AlreadyRegistered,
    Placement,
    SeatCounts,
    SeatLedger,
    Terms,
    quotas_of,
)

# -- Statements, built once -------------------------------------------------------------

_SESSION = bindparam("session_id")

_TERMS = (
    select(
        Session.id,
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
    .where(Session.id == _SESSION)
    .with_for_update(of=Session.__table__)
)

# After the lock is held: the session's contingents, the seats held by contingent (at most
# the capacity), and no more than one index entry each for "anyone on the waitlist?" and
# "is this address registered already?". Columns: kind, id, seats or count, organisation
# id, release time, release handled.
_CONTINGENT, _HELD, _WAITLIST, _MINE = "contingent", "held", "waitlist", "mine"
_SEATS = union_all(
    # First, so that the columns take its types (the times are read as UTC).
    select(
        literal_column(f"'{_CONTINGENT}'"),
        Contingent.id,
        Contingent.seats,
        Contingent.organisation_id,
        Contingent.release_at,
        Contingent.released_handled_at,
    ).where(Contingent.session_id == _SESSION),
    select(
        literal_column(f"'{_HELD}'"),
        Registration.contingent_id,
        func.count(),
        null(),
        null(),
        null(),
    )
    .where(Registration.session_id == _SESSION, SEAT_HOLDING_ONLY)  # ix_registrations_seats_held
    .group_by(Registration.contingent_id),
    select(
        literal_column(f"'{_WAITLIST}'"), null(), literal_column("1"), null(), null(), null()
    ).where(
        exists().where(
            Registration.session_id == _SESSION,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
    ),
    # At most one row: the partial unique index (session, email) allows one active
    # registration per address, and the lookup reads that index.
    select(
        literal_column(f"'{_MINE}'"), Registration.id, literal_column("1"), null(), null(), null()
    ).where(
        Registration.session_id == _SESSION,
        Registration.email == bindparam("email"),
        ACTIVE_ONLY,
    ),
)

_INSERT_REGISTRATION = Registration.__table__.insert()

WAITLIST_ORDER = (Registration.waitlist_priority.desc(), Registration.created_at, Registration.id)
_WAITING = select(Registration.id, Registration.email, Registration.language).where(
    Registration.session_id == _SESSION, Registration.status == RegistrationStatus.WAITLISTED
)
# The first people in line a partner's kept seats can go to: its members, signed in.
_NEXT_MEMBERS = (
    _WAITING.join(User, User.id == Registration.user_id)
    .where(User.organisation_id == bindparam("organisation_id"), User.role == Role.PARTNER)
    .order_by(*WAITLIST_ORDER)
    .limit(bindparam("seats"))
)
# The first people in line for public seats, leaving out those just seated.
_NEXT_IN_LINE = (
    _WAITING.where(Registration.id.not_in(bindparam("seated", expanding=True)))
    .order_by(*WAITLIST_ORDER)
    .limit(bindparam("seats"))
)
_SEAT = (
    update(Registration)
    .where(Registration.id == bindparam("registration_id"))
    .values(
        status=bindparam("status"),
        contingent_id=bindparam("contingent_id"),
        updated_at=bindparam("now"),
    )
)
_RELEASE_HANDLED = (
    update(Contingent)
    .where(Contingent.id.in_(bindparam("contingent_ids", expanding=True)))
    .values(released_handled_at=bindparam("now"))
)


# -- Reading ------------------------------------------------------------------------------


def lock(connection: Connection, session_id: int) -> Terms | None:
    """Lock the session until the transaction ends and read its terms."""
    row = connection.execute(_TERMS, {"session_id": session_id}).first()
    return None if row is None else Terms(*row)


def read_ledger(
    connection: Connection, terms: Terms | Session, *, now: datetime, email: str | None = None
) -> SeatLedger:
    """The session's seats in one query; with `email`, also the active registration that
    address holds already, if any (`ledger.registered_id`)."""
    rows = connection.execute(_SEATS, {"session_id": terms.id, "email": email or ""})
    contingents, used, due = [], {}, []
    waitlist, registered_id = False, None
    for kind, row_id, count, organisation_id, release_at, handled_at in rows:
        if kind == _CONTINGENT:
            contingents.append((row_id, organisation_id, count, release_at))
            if Contingent.released(release_at, now) and handled_at is None:
                due.append(row_id)
        elif kind == _HELD:
            used[row_id] = count
        elif kind == _WAITLIST:
            waitlist = True
        else:
            registered_id = row_id
    quotas = quotas_of(contingents, used, now)
    return SeatLedger(terms.capacity, sum(used.values()), quotas, waitlist, registered_id, due)


def counts_for(sessions: list[Session], *, now: datetime) -> dict[int, SeatCounts]:
    """Seats taken, reserved and waitlisted for many sessions in two queries, by the same
    ledger the rules use."""
    ids = [s.id for s in sessions]
    held: dict[int, dict[int | None, int]] = {i: {} for i in ids}
    waiting: dict[int, int] = dict.fromkeys(ids, 0)
    contingents: dict[int, list] = {i: [] for i in ids}
    if ids:
        rows = db.session.execute(
            select(
                Registration.session_id,
                Registration.status,
                Registration.contingent_id,
                func.count(),
            )
            .where(Registration.session_id.in_(ids), ACTIVE_ONLY)
            .group_by(Registration.session_id, Registration.status, Registration.contingent_id)
        )
        for session_id, status, contingent_id, count in rows:
            if status in SEAT_HOLDING:
                by = held[session_id]
                by[contingent_id] = by.get(contingent_id, 0) + count
            else:
                waiting[session_id] += count
        for contingent in db.session.execute(
            select(Contingent).where(Contingent.session_id.in_(ids))
        ).scalars():
            contingents[contingent.session_id].append(
                (contingent.id, contingent.organisation_id, contingent.seats, contingent.release_at)
            )
    counts = {}
    for s in sessions:
        used = held[s.id]
        ledger = SeatLedger(s.capacity, sum(used.values()), quotas_of(contingents[s.id], used, now))
        counts[s.id] = ledger.counts(waiting[s.id])
    return counts


# -- Changing -----------------------------------------------------------------------------


def place(
    connection: Connection,
    terms: Terms,
    values: dict,
    *,
    partner_organisation_id: int | None,
    now: datetime,
) -> Placement:
    """Write a registration (`values`: its columns) with a seat if one is free to the
    person, else on the waitlist, and queue the mail that says which.

    Raises AlreadyRegistered when the address holds an active registration already.
    """
    ledger = read_ledger(connection, terms, now=now, email=values["email"])
    if ledger.registered_id is not None:
        raise AlreadyRegistered(ledger.registered_id)
    if ledger.waitlist and (ledger.public_left > 0 or ledger.releases_due):
        # Seats free while people wait: a contingent's release time has passed since the
        # last change (the release job would hand its seats over a little later), or seats
        # were added outside these rules. The people waiting go first.
        release(connection, terms, ledger.releases_due, now=now)
        ledger = read_ledger(connection, terms, now=now)
    status, contingent_id = RegistrationStatus.WAITLISTED, None
    if ledger.left_for(partner_organisation_id) > 0:
        contingent_id = ledger.take(partner_organisation_id)
        status = terms.seat_status
    result = connection.execute(
        _INSERT_REGISTRATION, {**values, "status": status, "contingent_id": contingent_id}
    )
    placement = Placement(
        id=result.inserted_primary_key[0],
        email=values["email"],
        language=values["language"],
        status=status,
        token_nonce=values["token_nonce"],
    )
    if status == RegistrationStatus.WAITLISTED:
        template, invite = "registration_waitlisted", None
    elif status == RegistrationStatus.PENDING:
        template, invite = "registration_pending", None
    else:
        template, invite = "registration_confirmed", REQUEST
    queue_about(placement, "received", template, now, invite, new_key=True)
    return placement


def promote(connection: Connection, terms: Terms, *, now: datetime) -> list[Placement]:
    """Give free seats to the people waiting, in order, and tell those who got one.

    A partner's kept seats go to its members first in line; the public seats to whoever is
    first in line among the rest. Someone whose only free seat would be another partner's
    keeps waiting while people behind them move up. Reads and writes only the people it
    seats. Run it after a change that can free a seat for someone waiting.
    """
    if not terms.moves_up(now):
        return []
    ledger = read_ledger(connection, terms, now=now)
    if not ledger.waitlist or (ledger.public_left <= 0 and ledger.reserved <= 0):
        return []
    seated: list[tuple[tuple, int | None]] = []
    for quota in ledger.quotas.values():
        if quota.free > 0:
            params = {"session_id": terms.id, "organisation_id": quota.organisation_id}
            rows = connection.execute(_NEXT_MEMBERS, {**params, "seats": quota.free}).all()
            seated += [(row, quota.contingent_id) for row in rows]
    if ledger.public_left > 0:
        rows = connection.execute(
            _NEXT_IN_LINE,
            {
                "session_id": terms.id,
                "seated": [row.id for row, _ in seated],
                "seats": ledger.public_left,
            },
        ).all()
        seated += [(row, None) for row in rows]
    if not seated:
        return []
    status = terms.seat_status
    connection.execute(
        _SEAT,
        [
            {"registration_id": row.id, "status": status, "contingent_id": c, "now": now}
            for row, c in seated
        ],
    )
    promoted = [Placement(row.id, row.email, row.language, status) for row, _ in seated]
    _expire_loaded(promoted)
    template = "registration_promoted"
    if status == RegistrationStatus.PENDING:
        template = "registration_promoted_pending"
    for placement in promoted:
        invite = REQUEST if status == RegistrationStatus.CONFIRMED else None
        queue_about(placement, "promoted", template, now, invite)
    return promoted


def release(
    connection: Connection, terms: Terms, contingent_ids: list[int], *, now: datetime
) -> list[Placement]:
    """Offer the unused seats of released contingents to the waitlist, once."""
    promoted = promote(connection, terms, now=now)
    if contingent_ids:
        connection.execute(_RELEASE_HANDLED, {"contingent_ids": contingent_ids, "now": now})
    return promoted


# -- For code that works with ORM objects ---------------------------------------------------


def lock_session(session_id: int) -> Session:
    """Load the session with a write lock held until the transaction ends."""
    stmt = (
        select(Session)
        .where(Session.id == session_id)
        .options(joinedload(Session.format, innerjoin=True))
        .with_for_update(of=Session)
        .execution_options(populate_existing=True)
    )
    return db.session.execute(stmt).scalar_one()


def seat_ledger(session: Session, *, now: datetime) -> SeatLedger:
    """The session's seats (`id` and `capacity` of the session as loaded); flushes first, so
    that changes not yet written count. Takes no lock: callers that act on it hold one."""
    db.session.flush()
    return read_ledger(core_connection(writes=False), session, now=now)


def fill_free_seats(session_id: int, *, now: datetime) -> list[Registration]:
    """`promote` for code holding ORM objects: flushes first, and the registrations it
    seats are returned as (freshly loaded) objects."""
    db.session.flush()
    connection = core_connection(writes=True)
    terms = lock(connection, session_id)
    return loaded(promote(connection, terms, now=now)) if terms else []


def _expire_loaded(placements: list[Placement]) -> None:
    """ORM objects of these registrations, if loaded, are read again on their next use."""
    identity_map = db.session.identity_map
    for placement in placements:
        registration = identity_map.get(db.session.identity_key(Registration, placement.id))
        if registration is not None:
            db.session.expire(registration)


def loaded(placements: list[Placement]) -> list[Registration]:
    """The registrations behind placements, as ORM objects read after the change."""
    if not placements:
        return []
    ids = [p.id for p in placements]
    rows = db.session.execute(
        select(Registration)
        .where(Registration.id.in_(ids))
        .execution_options(populate_existing=True)
    ).scalars()
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids]
