from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventsapp.database import UTCDateTime, db, utcnow
from eventsapp.models.format import Format
from eventsapp.models.user import User


class Publication(db.Model):
    """One "new dates announced" event: drafts of a format published together.

    The sessions it published point back to it; announcement mails are built from it.
    """

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    format_id: Mapped[int] = mapped_column(ForeignKey("formats.id"), index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    format: Mapped[Format] = relationship()
    published_by: Mapped[User | None] = relationship()
