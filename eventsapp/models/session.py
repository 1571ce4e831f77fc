from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventsapp.database import UTCDateTime, db, utcnow
from eventsapp.models.contingent import Contingent
from eventsapp.models.format import Format
from eventsapp.models.organisation import Organisation
from eventsapp.models.texts import TranslatedTexts

if TYPE_CHECKING:
    from eventsapp.models.publication import Publication


# A date's own texts that organisers may translate: columns of the session, then the
# practical information a date can replace for itself (`practical`).
SESSION_COLUMNS = ("interpreting", "note", "cancel_reason")
SESSION_TEXTS = (*SESSION_COLUMNS, "what_to_bring", "meeting_point", "accessibility_note")


class SessionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


def registration_deadline(starts_at: datetime, closes_at: datetime | None) -> datetime:
    """Registration closes at the configured time, and never later than the start."""
    return min(closes_at, starts_at) if closes_at else starts_at


def calendar_domain() -> str:
    """The domain of a new session's calendar UID: EVENTSAPP_CALENDAR_DOMAIN, else the host
    of EVENTSAPP_BASE_URL at creation time. Stored with the session (`uid_domain`) and never
    derived again, so a later change of either setting changes no UID."""
    config = current_app.config
    domain = (
        config.get("EVENTSAPP_CALENDAR_DOMAIN") or urlsplit(config["EVENTSAPP_BASE_URL"]).hostname
    )
    return domain or "localhost"


class Session(TranslatedTexts, db.Model):
    """One dated occurrence of a format, with its own venue, host and capacity."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_status_starts_at", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    format_id: Mapped[int] = mapped_column(ForeignKey("formats.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    venue_name: Mapped[str] = mapped_column(String(200))
    venue_address: Mapped[str] = mapped_column(String(300), default="")
    host_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    capacity: Mapped[int]
    languages: Mapped[str] = mapped_column(String(100), default="de")  # comma-separated codes
    interpreting: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # This date's own practical information, replacing the format's: {"meeting_point": …}
    # (keys in eventsapp.models.practical.OVERRIDABLE), in German.
    practical: Mapped[dict] = mapped_column(JSON, default=dict)
    # This date's own texts (SESSION_TEXTS) in further languages: {"ar": {"note": …}, …}.
    # German (the columns above and `practical`) is the fallback.
    translations: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[SessionStatus] = mapped_column(
        Enum(
            SessionStatus,
            native_enum=False,
            length=20,
            values_callable=lambda ss: [s.value for s in ss],
        ),
        default=SessionStatus.DRAFT,
    )
    # Raised on every change of time, place or status; calendar clients rely on it.
    sequence: Mapped[int] = mapped_column(default=0)
    # The domain of this date's calendar UID (`uid`), fixed when the session is created:
    # a new EVENTSAPP_BASE_URL or calendar domain later changes no UID, so calendars never
    # take a known date for a new one.
    uid_domain: Mapped[str] = mapped_column(String(255), default=calendar_domain)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The start before the last move and when that move was made: shown as "rescheduled"
    # to search engines (JSON-LD) and in the announcements feed.
    previous_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rescheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The rule's own occurrence this session was generated from (UTC); None when added by
    # hand. Generating again skips occurrences that already have a session.
    occurrence_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    publication_id: Mapped[int | None] = mapped_column(ForeignKey("publications.id"))
    # The feedback round (eventsapp/services/feedback.py): when its invitations went out,
    # and when the one reminder did.
    feedback_invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    format: Mapped[Format] = relationship()
    host_organisation: Mapped[Organisation] = relationship()
    publication: Mapped[Publication | None] = relationship()
    contingents: Mapped[list[Contingent]] = relationship(
        order_by="Contingent.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
        back_populates="session",
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def uid(self) -> str:
        """The UID of this date in every feed and invitation (RFC 5545 3.8.4.7)."""
        return f"session-{self.id}@{self.uid_domain}"

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.tz)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.tz)

    @property
    def registration_deadline(self) -> datetime:
        return registration_deadline(self.starts_at, self.registration_closes_at)

    def german(self, field: str) -> str:
        """One of SESSION_TEXTS as the organiser wrote it: a column, or the date's own
        practical information."""
        if field in SESSION_COLUMNS:
            return getattr(self, field) or ""
        return (self.practical or {}).get(field) or ""

    @property
    def language_codes(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]

    def __repr__(self) -> str:
        return f"<Session {self.id} {self.starts_at:%Y-%m-%d %H:%M}Z {self.status}>"
