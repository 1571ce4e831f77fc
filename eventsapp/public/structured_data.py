"""schema.org `Event` data of a session page, for search engines and link previews.

It says only what the page says to every visitor: the date, the place, who hosts it and
whether a public seat is left. It names no registrant and no partner's reserved seats.
"""

from __future__ import annotations

from datetime import datetime

from eventsapp.formatting import format_text
from eventsapp.models import Session
from eventsapp.models.session import SessionStatus
from eventsapp.services.registrations import SeatCounts, registration_open
from eventsapp.urls import external_url

SCHEMA = "https://schema.org/"


def _local(session: Session, value: datetime) -> str:
    """ISO 8601 with the offset the session's zone has at that moment."""
    return value.astimezone(session.tz).isoformat(timespec="seconds")


def _status(session: Session) -> str:
    if session.status == SessionStatus.CANCELLED:
        return SCHEMA + "EventCancelled"
    if session.previous_starts_at is not None:
        return SCHEMA + "EventRescheduled"
    return SCHEMA + "EventScheduled"


def _availability(session: Session, counts: SeatCounts, *, now: datetime) -> str:
    """SoldOut when no public seat is left (the waitlist stays open); OutOfStock while
    registration is not open, before it opens or after it closed."""
    if counts.left <= 0:
        return SCHEMA + "SoldOut"
    if not registration_open(session, now=now):
        return SCHEMA + "OutOfStock"
    return SCHEMA + "InStock"


def session_event(session: Session, counts: SeatCounts, *, now: datetime) -> dict:
    page = external_url("public.session_detail", session_id=session.id)
    host = session.host_organisation
    event: dict = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": page,
        "url": page,
        "name": format_text(session.format, "title"),
        "description": format_text(session.format, "summary"),
        "startDate": _local(session, session.starts_at),
        "endDate": _local(session, session.ends_at),
        "eventStatus": _status(session),
        "eventAttendanceMode": SCHEMA + "OfflineEventAttendanceMode",
        "isAccessibleForFree": True,
        "inLanguage": session.language_codes,
        "location": {
            "@type": "Place",
            "name": session.venue_name,
            "address": session.venue_address or session.venue_name,
        },
        "organizer": {
            "@type": "Organization",
            "name": host.name,
            "url": host.website or external_url("public.organisation_detail", slug=host.slug),
        },
    }
    if session.previous_starts_at is not None and session.status != SessionStatus.CANCELLED:
        event["previousStartDate"] = _local(session, session.previous_starts_at)
    if session.status != SessionStatus.CANCELLED:
        offer: dict = {
            "@type": "Offer",
            "url": page,
            "price": "0",
            "priceCurrency": "EUR",
            "availability": _availability(session, counts, now=now),
            "validThrough": _local(session, session.registration_deadline),
        }
        opens = session.registration_opens_at or session.published_at
        if opens is not None:
            offer["validFrom"] = _local(session, opens)
        event["offers"] = offer
        event["remainingAttendeeCapacity"] = max(counts.left, 0)
    return event
