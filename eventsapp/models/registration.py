from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    TextClause,
    and_,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventsapp.database import UTCDateTime, db, utcnow
from eventsapp.models.contingent import Contingent
from eventsapp.models.session import Session
from eventsapp.models.user import User


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for an organiser's approval; holds a seat
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"  # by the person, or by an organiser on their behalf
    REJECTED = "rejected"  # an organiser declined a pending registration


# The address of a walk-in who gave none (RFC 2606 .invalid: it can never receive mail).
NO_ADDRESS = "@walk-in.invalid"

SEAT_HOLDING = (RegistrationStatus.PENDING, RegistrationStatus.CONFIRMED)
ACTIVE = (RegistrationStatus.PENDING, RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


def _status_in(statuses: tuple[RegistrationStatus, ...]) -> TextClause:
    values = ", ".join(f"'{status.value}'" for status in statuses)
    return text(f"status IN ({values})")


# The predicates of the partial indexes below. A query finds such an index only when it
# states the predicate in these very words (values bound as parameters do not count), and
# only on a query of this table alone (the text names no table).
ACTIVE_ONLY = _status_in(ACTIVE)  # status IN ('pending', 'confirmed', 'waitlisted')
SEAT_HOLDING_ONLY = _status_in(SEAT_HOLDING)  # status IN ('pending', 'confirmed')


class Registration(db.Model):
    """A person's registration for one session; attendees need no account."""

    __tablename__ = "registrations"
    __table_args__ = (
        # At most one active registration per person and session, enforced by the database.
        Index(
            "uq_registrations_session_id_email_active",
            "session_id",
            "email",
            unique=True,
            sqlite_where=ACTIVE_ONLY,
            postgresql_where=ACTIVE_ONLY,
        ),
        # The seats held, by contingent, read under the seat lock: as many entries as the
        # session has seats, however long its waitlist.
        Index(
            "ix_registrations_seats_held",
            "session_id",
            "contingent_id",
            sqlite_where=SEAT_HOLDING_ONLY,
            postgresql_where=SEAT_HOLDING_ONLY,
        ),
        # Seat counts read this index alone (grouped by status and contingent, in index
        # order), and see from it whether an address is registered already.
        Index(
            "ix_registrations_session_status_contingent_email",
            "session_id",
            "status",
            "contingent_id",
            "email",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))  # normalised, see services.registrations
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="de")
    status: Mapped[RegistrationStatus] = mapped_column(
        Enum(
            RegistrationStatus,
            native_enum=False,
            length=20,
            values_callable=lambda ss: [s.value for s in ss],
        )
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended: Mapped[bool | None] = mapped_column(default=None)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when name and address were removed (retention or erasure); counts stay.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # approved or rejected
    # "What would you like to ask?": an optional question or topic for the session. The
    # organisers see it without the name unless `question_named`; it goes with the name
    # and address when the registration is anonymised.
    question: Mapped[str] = mapped_column(Text, default="")
    question_named: Mapped[bool] = mapped_column(default=False)
    # Added at the door by an organiser (the check-in page), not registered ahead; such a
    # person may have given no address (`has_address`), and then gets no mail.
    walk_in: Mapped[bool] = mapped_column(default=False)
    # Higher goes first on the waitlist; organisers may move a person up.
    waitlist_priority: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The partner organisation the registration belongs to: made by one of its coordinators
    # for a colleague, or by a member for themselves. Its members see and manage it.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The partner seat contingent this seat was taken from, if any.
    contingent_id: Mapped[int | None] = mapped_column(
        ForeignKey("contingents.id", ondelete="SET NULL")
    )
    # The manage link's token is derived from this nonce with the app's secret key;
    # only its hash is looked up, so the database alone opens no manage page.
    token_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)

    session: Mapped[Session] = relationship()
    contingent: Mapped[Contingent | None] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def has_address(self) -> bool:
        return not self.email.endswith(NO_ADDRESS)

    @property
    def holds_seat(self) -> bool:
        return self.status in SEAT_HOLDING

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    def __repr__(self) -> str:
        return f"<Registration {self.id} session={self.session_id} {self.status}>"


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next person in line; None when not on the waitlist. Those moved to the top
    (higher `waitlist_priority`) come first, then by time of registration: the order
    `eventsapp.services.seats.WAITLIST_ORDER` seats people in."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    mine = (registration.waitlist_priority, registration.created_at, registration.id)
    ahead = (
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.session_id == registration.session_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            or_(
                Registration.waitlist_priority > mine[0],
                and_(
                    Registration.waitlist_priority == mine[0],
                    or_(
                        Registration.created_at < mine[1],
                        and_(Registration.created_at == mine[1], Registration.id < mine[2]),
                    ),
                ),
            ),
        )
    )
    return db.session.execute(ahead).scalar_one() + 1
