from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from eventsapp.database import UTCDateTime, db, utcnow


class PersonalFeed(db.Model):
    """The secret calendar feed of one person (by email): their sessions, nobody else's.

    One row per person, so resetting it revokes every link they ever shared. As with manage
    links, the token is derived from the nonce with the app's secret and found by its hash.
    """

    __tablename__ = "personal_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    token_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The language its entries are written in: the one the person set it up or renewed in.
    language: Mapped[str] = mapped_column(String(8), default="de", server_default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<PersonalFeed {self.id}>"
