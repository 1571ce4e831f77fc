from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from eventsapp.database import UTCDateTime, db, utcnow


class OrganisationKind(enum.StrEnum):
    HOST = "host"
    PARTNER = "partner"


class Organisation(db.Model):
    """The police authority (a host) or a civil-society partner."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(
            OrganisationKind,
            native_enum=False,
            length=20,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # The language of the mail to that contact address (announcements).
    language: Mapped[str] = mapped_column(String(8), default="de")
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    venue_name: Mapped[str | None] = mapped_column(String(200))
    venue_address: Mapped[str | None] = mapped_column(String(300))
    # Websites that may show this organisation's dates widget in a frame (/embed/...), one
    # origin per line (https://example.org); none by default, so no site can frame it.
    embed_origins: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def embed_origin_list(self) -> list[str]:
        return [line for line in (self.embed_origins or "").split() if line]

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"
