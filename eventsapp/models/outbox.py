from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from eventsapp.database import UTCDateTime, db, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker (`claim_token`) until `lease_until`
    SENT = "sent"
    DEAD = "dead"  # gave up after too many attempts; an admin may retry


class OutboxMessage(db.Model):
    """An email, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="de")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    ics_method: Mapped[str | None] = mapped_column(String(20))
    # A confirmed place's check-in code, drawn as a QR code into the HTML part when sent.
    checkin_code: Mapped[str | None] = mapped_column(String(20))
    # Registration mails are rendered by the worker shortly before sending, not in the request
    # that queues them (eventsapp/mail/notifications.py): until then subject and bodies are
    # empty and the row names its template and registration.
    deferred_template: Mapped[str | None] = mapped_column(String(60))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL")
    )
    # What a deferred mail must know of the moment it was queued and cannot read later
    # (a changed session's time and place before the change); None for most mail.
    context: Mapped[dict | None] = mapped_column(JSON)
    # Extra headers as "Name: value" lines (List-Unsubscribe and List-Unsubscribe-Post).
    extra_headers: Mapped[str] = mapped_column(Text, default="")
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # bodies removed
    # What makes two rows the same mail (e.g. "registration:17:confirmed").
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Stable across retries, so a receiving server or client can drop a resent copy.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(
            OutboxStatus,
            native_enum=False,
            length=20,
            values_callable=lambda ss: [s.value for s in ss],
        ),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Random per claim, while the row is "sending". A worker records an outcome only where the
    # token is still its own: once its lease ran out and another worker took the mail over,
    # the late outcome changes nothing (eventsapp/mail/delivery.py).
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.status}>"  # the key may hold an address
