"""Creating and editing formats."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from eventsapp.database import db
from eventsapp.models import FeedbackAudience, Format, Organisation, Visibility


@dataclass(frozen=True)
class FormatValues:
    title: str
    summary: str
    description: str
    host_organisation: Organisation
    venue_name: str | None
    venue_address: str | None
    duration_minutes: int
    capacity: int
    visibility: Visibility
    approval_required: bool
    reminder_minutes: list[int]
    announce_to_all_partners: bool
    announcement_partners: list[Organisation]
    # Practical information for attendees: attribute name -> value (models/practical.py).
    practical: dict[str, object] = field(default_factory=dict)
    feedback_audience: FeedbackAudience = FeedbackAudience.ATTENDED
    feedback_delay_hours: int = 3


def slugify(text: str) -> str:
    text = text.replace("ß", "ss")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "format"


def unique_slug(title: str, *, exclude_id: int | None = None) -> str:
    base = slugify(title)
    candidate, n = base, 2
    while True:
        stmt = select(Format.id).where(Format.slug == candidate)
        if exclude_id is not None:
            stmt = stmt.where(Format.id != exclude_id)
        if db.session.execute(stmt).first() is None:
            return candidate
        candidate, n = f"{base}-{n}", n + 1


def _apply(format: Format, values: FormatValues) -> None:
    format.title = values.title
    format.summary = values.summary
    format.description = values.description
    format.host_organisation = values.host_organisation
    format.venue_name = values.venue_name or None
    format.venue_address = values.venue_address or None
    format.duration_minutes = values.duration_minutes
    format.capacity = values.capacity
    format.visibility = values.visibility
    format.approval_required = values.approval_required
    format.reminder_offsets = ",".join(str(m) for m in values.reminder_minutes)
    format.announce_to_all_partners = values.announce_to_all_partners
    format.announcement_partners = list(values.announcement_partners)
    format.feedback_audience = values.feedback_audience
    format.feedback_delay_hours = values.feedback_delay_hours
    for name, value in values.practical.items():
        setattr(format, name, value)


def create_format(values: FormatValues, *, timezone: str, now: datetime) -> Format:
    format = Format(
        slug=unique_slug(values.title), timezone=timezone, created_at=now, updated_at=now
    )
    _apply(format, values)
    db.session.add(format)
    db.session.flush()
    return format


def update_format(format: Format, values: FormatValues, *, now: datetime) -> None:
    """Change a format's defaults; sessions already planned keep their own values."""
    _apply(format, values)
    format.updated_at = now
    db.session.flush()
