from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from eventsapp.database import UTCDateTime, db, utcnow


class AccessPurpose(enum.StrEnum):
    DATA = "data"  # see, download or erase what is held about an address
    CALENDAR = "calendar"  # set up or renew the address's personal calendar feed
    PASSWORD = "password"  # noqa: S105 - set the password of an invited account
    ADDRESS = "address"  # move a registration to the address the link was mailed to


class AccessLink(db.Model):
    """A link mailed to an address: whoever opens it has shown they can read that mailbox.

    The token is random and only its SHA-256 is kept, so the link carries no personal data
    and the database alone opens nothing. Rows die at `expires_at` (the housekeeping job
    deletes them) and with an erasure of their address.
    """

    __tablename__ = "access_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[AccessPurpose] = mapped_column(
        Enum(
            AccessPurpose,
            native_enum=False,
            length=20,
            values_callable=lambda ps: [p.value for p in ps],
        )
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # For ADDRESS: the registration that moves to `email` once the link is confirmed.
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<AccessLink {self.id} {self.purpose}>"
