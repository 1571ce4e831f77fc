from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventsapp.database import UTCDateTime, db, utcnow
from eventsapp.models.organisation import Organisation

if TYPE_CHECKING:
    from eventsapp.models.session import Session


class Contingent(db.Model):
    """Seats of one session kept for one partner organisation until `release_at`."""

    __tablename__ = "contingents"
    __table_args__ = (UniqueConstraint("session_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    seats: Mapped[int]
    release_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When housekeeping handed the unused seats of a released contingent to the waitlist.
    released_handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the partner was told that the unused seats are about to be released.
    release_notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    session: Mapped[Session] = relationship(back_populates="contingents")

    def is_released(self, now: datetime) -> bool:
        return self.released(self.release_at, now)

    @staticmethod
    def released(release_at: datetime, now: datetime) -> bool:
        """Unused seats turn public at `release_at`."""
        return now >= release_at

    def __repr__(self) -> str:
        return f"<Contingent {self.seats} for org {self.organisation_id} on {self.session_id}>"
