from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Enum, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventsapp.database import UTCDateTime, db, utcnow
from eventsapp.models.format import Format


class SubscriptionStatus(enum.StrEnum):
    PENDING = "pending"  # double opt-in mail sent, link not yet followed
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class SubscriptionSource(enum.StrEnum):
    SELF = "self"  # subscribed on the format page (double opt-in)
    ACCOUNT = "account"  # an account holder following a format
    PARTNER = "partner"  # a partner organisation's contact address, set by an admin


class Subscription(db.Model):
    """Someone who hears about new dates of a format, and the proof they asked for it."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("format_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    format_id: Mapped[int] = mapped_column(ForeignKey("formats.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="de")
    source: Mapped[SubscriptionSource] = mapped_column(
        Enum(
            SubscriptionSource,
            native_enum=False,
            length=20,
            values_callable=lambda ss: [s.value for s in ss],
        ),
        default=SubscriptionSource.SELF,
    )
    status: Mapped[SubscriptionStatus] = mapped_column(
        Enum(
            SubscriptionStatus,
            native_enum=False,
            length=20,
            values_callable=lambda ss: [s.value for s in ss],
        ),
        default=SubscriptionStatus.PENDING,
    )
    # Proof of consent (DSGVO Art. 7): when, and which wording the person agreed to.
    consent_text_version: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)

    format: Mapped[Format] = relationship()

    def __repr__(self) -> str:
        return f"<Subscription {self.id} format={self.format_id} {self.status}>"


# Partner organisations a format announces to when it does not announce to all partners.
format_announcement_partners = Table(
    "format_announcement_partners",
    db.metadata,
    Column("format_id", ForeignKey("formats.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)
