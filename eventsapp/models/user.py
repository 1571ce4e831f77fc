from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventsapp.database import UTCDateTime, db, utcnow
from eventsapp.models.organisation import Organisation


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORGANISER = "organiser"
    PARTNER = "partner"


class User(db.Model):
    """An account: admins, organisers and partner members. Attendees need none."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda rs: [r.value for r in rs])
    )
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    language: Mapped[str] = mapped_column(String(8), default="de")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
