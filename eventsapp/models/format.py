from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import JSON, Date, Enum, ForeignKey, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventsapp.database import UTCDateTime, db, utcnow
from eventsapp.models.organisation import Organisation
from eventsapp.models.texts import TranslatedTexts


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    PARTNERS = "partners"


class FeedbackAudience(enum.StrEnum):
    """Who of a session's people is asked for feedback (a format's setting)."""

    # The people checked in; where the organiser did not use check-in for the date, every
    # confirmed registration.
    ATTENDED = "attended"
    CONFIRMED = "confirmed"  # every confirmed registration, check-in or not
    NOBODY = "nobody"


class Format(TranslatedTexts, db.Model):
    """A recurring dialogue format; its dated occurrences are Sessions."""

    __tablename__ = "formats"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # Title, summary and description in further languages: {"tr": {"title": …}, …}.
    # German (the columns above) is required; other languages fall back to it.
    translations: Mapped[dict] = mapped_column(JSON, default=dict)
    host_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    venue_name: Mapped[str | None] = mapped_column(String(200))
    venue_address: Mapped[str | None] = mapped_column(String(300))
    duration_minutes: Mapped[int] = mapped_column(default=120)
    capacity: Mapped[int] = mapped_column(default=20)
    # RFC 5545 RRULE without DTSTART, expanded at `start_time` in `timezone` (local wall time).
    rrule: Mapped[str | None] = mapped_column(String(500))
    start_time: Mapped[time | None] = mapped_column(Time)
    series_start: Mapped[date | None] = mapped_column(Date)  # the rule's DTSTART day
    # Local datetimes (ISO, comma-separated): explicit extra dates and skipped ones.
    rdates: Mapped[str] = mapped_column(Text, default="")
    exdates: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    visibility: Mapped[Visibility] = mapped_column(
        Enum(
            Visibility,
            native_enum=False,
            length=20,
            values_callable=lambda vs: [v.value for v in vs],
        ),
        default=Visibility.PUBLIC,
    )
    approval_required: Mapped[bool] = mapped_column(default=False)
    # Minutes before a session at which reminders go out.
    reminder_offsets: Mapped[str] = mapped_column(String(100), default="2880,180")
    # Practical information for attendees (eventsapp/models/practical.py); the first four
    # are translated like title and description.
    what_happens: Mapped[str] = mapped_column(Text, default="")
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    meeting_point: Mapped[str] = mapped_column(String(300), default="")
    accessibility_note: Mapped[str] = mapped_column(Text, default="")
    step_free: Mapped[bool | None] = mapped_column()
    hearing_loop: Mapped[bool | None] = mapped_column()
    accessible_toilet: Mapped[bool | None] = mapped_column()
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    # Who hears about new dates besides subscribers: every partner, or the chosen ones.
    announce_to_all_partners: Mapped[bool] = mapped_column(default=True)
    # Feedback after each date (eventsapp/services/feedback.py): who is asked, and how
    # many hours after the end.
    feedback_audience: Mapped[FeedbackAudience] = mapped_column(
        Enum(
            FeedbackAudience,
            native_enum=False,
            length=20,
            values_callable=lambda audiences: [a.value for a in audiences],
        ),
        default=FeedbackAudience.ATTENDED,
    )
    feedback_delay_hours: Mapped[int] = mapped_column(default=3)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    host_organisation: Mapped[Organisation] = relationship()
    announcement_partners: Mapped[list[Organisation]] = relationship(
        secondary="format_announcement_partners"
    )

    @property
    def reminder_minutes(self) -> list[int]:
        return sorted(
            {int(m) for m in self.reminder_offsets.split(",") if m.strip().isdigit()}, reverse=True
        )

    def __repr__(self) -> str:
        return f"<Format {self.slug}>"
