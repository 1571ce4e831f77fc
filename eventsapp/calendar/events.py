"""Calendar text for sessions: one VEVENT, a whole feed, and the invitations mail carries.

Events are written line by line (eventsapp.calendar.text) instead of through icalendar's
component tree: a feed of a thousand sessions builds several times faster (benchmarks/infra.py
measures it against the library's way). The calendar frame and the time zones still come
from icalendar. A feed's events never name attendees; an invitation names only its registrant
as ATTENDEE and carries the session's UID and SEQUENCE, so a mail client updates the same
calendar entry when the session moves or is cancelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import Calendar, vText

from eventsapp.calendar.practical import practical_text
from eventsapp.calendar.text import (
    CRLF,
    escape_text,
    fold,
    local_stamp,
    param_value,
    utc_stamp,
    vtimezone,
)
from eventsapp.models import Registration, RegistrationStatus, Session, SessionStatus
from eventsapp.urls import base_host, external_url

# --- events and feeds ----------------------------------------------------------------------


def _header(name: str, description: str, timezones: Iterable[tuple[str, int]]) -> tuple[str, str]:
    calendar = Calendar()
    calendar.add("prodid", f"-//eventsapp//{base_host()}//DE")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", vText(name))
    calendar.add("name", vText(name))
    calendar.add("x-wr-caldesc", vText(description))
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    text = calendar.to_ical().decode()
    head, _sep, _tail = text.rpartition("END:VCALENDAR")
    zones = "".join(vtimezone(zone, year) for zone, year in sorted(timezones))
    return head + zones, "END:VCALENDAR" + CRLF


def _language() -> str | None:
    """The language being rendered (a mail's, a feed's): its translated texts are used."""
    locale = get_locale()
    return locale.language if locale else None


def _description(session: Session, url: str) -> str:
    language = _language()
    parts = [
        session.format.text("summary", language),
        session.text("note", language),
        practical_text(session),
    ]
    if session.status == SessionStatus.CANCELLED and session.cancel_reason:
        reason = session.text("cancel_reason", language)
        parts.insert(0, _("Abgesagt: %(reason)s", reason=reason))
    if session.interpreting:
        parts.append(session.text("interpreting", language))
    parts.append(url)
    return "\n\n".join(p for p in parts if p)


def _organizer(session: Session) -> str:
    host = session.host_organisation
    address = host.contact_email or current_app.config["MAIL_DEFAULT_SENDER"].rpartition("<")[
        2
    ].rstrip(">")
    return f"ORGANIZER;CN={param_value(host.name)}:mailto:{clean_address(address)}"


def clean_address(address: str) -> str:
    return "".join(ch for ch in address if ch.isprintable() and ch not in ' ;,:"<>\\')


def event_lines(
    session: Session,
    *,
    registration_status: RegistrationStatus | None = None,
    hosted: bool = False,
) -> list[str]:
    """One VEVENT, unfolded. No attendees: a feed never carries other people's data.
    `hosted`: in a personal feed, a date the person's organisation hosts without them being
    registered: titled so, and shown as free time."""
    language = _language()
    # The page in the calendar's language; in the site's default the address stays bare.
    lang = language if language != current_app.config["BABEL_DEFAULT_LOCALE"] else None
    url = external_url("public.session_detail", session_id=session.id, lang=lang)
    cancelled = session.status == SessionStatus.CANCELLED
    summary = session.format.text("title", language)
    status = "CONFIRMED"
    if cancelled:
        summary = _("Abgesagt: %(title)s", title=summary)
        status = "CANCELLED"
    elif registration_status == RegistrationStatus.WAITLISTED:
        summary = _("Warteliste: %(title)s", title=summary)
        status = "TENTATIVE"
    elif registration_status == RegistrationStatus.PENDING:
        status = "TENTATIVE"
    elif hosted:
        summary = _("Bei Ihrer Organisation: %(title)s", title=summary)
    location = ", ".join(p for p in (session.venue_name, session.venue_address) if p)
    changed = utc_stamp(session.updated_at)
    return [
        "BEGIN:VEVENT",
        f"UID:{session.uid}",
        f"DTSTAMP:{changed}",
        f"LAST-MODIFIED:{changed}",
        f"CREATED:{utc_stamp(session.created_at)}",
        f"SEQUENCE:{session.sequence}",
        f"DTSTART;TZID={session.timezone}:{local_stamp(session.starts_at, session.timezone)}",
        f"DTEND;TZID={session.timezone}:{local_stamp(session.ends_at, session.timezone)}",
        f"SUMMARY:{escape_text(summary)}",
        f"LOCATION:{escape_text(location)}",
        f"DESCRIPTION:{escape_text(_description(session, url))}",
        f"URL:{url}",
        _organizer(session),
        f"STATUS:{status}",
        "TRANSP:TRANSPARENT" if hosted else "TRANSP:OPAQUE",
        "END:VEVENT",
    ]


def build_feed(
    name: str,
    description: str,
    sessions: list[Session],
    *,
    registration_statuses: dict[int, RegistrationStatus] | None = None,
) -> bytes:
    """The whole calendar: header, one rule-based VTIMEZONE per zone used, the events.
    With `registration_statuses` (a personal feed), a session without one is a date the
    person's organisation hosts."""
    statuses = registration_statuses or {}
    personal = registration_statuses is not None
    zones = {(s.timezone, s.starts_at.year) for s in sessions} or {
        (current_app.config["EVENTSAPP_TIMEZONE"], 2026)
    }
    # One VTIMEZONE per TZID (RFC 5545 3.2.19): the rules of the earliest year in the feed.
    first_year: dict[str, int] = {}
    for zone, year in zones:
        first_year[zone] = min(year, first_year.get(zone, year))
    head, tail = _header(name, description, first_year.items())
    lines = []
    for session in sessions:
        status = statuses.get(session.id)
        hosted = personal and status is None
        for line in event_lines(session, registration_status=status, hosted=hosted):
            lines.append(fold(line))
    body = head + CRLF.join(lines) + (CRLF if lines else "") + tail
    return body.encode()


# --- invitations ------------------------------------------------------------------------


REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"


def invitation(
    registration: Registration, method: str, *, stamp: datetime, sequence: int | None = None
) -> str:
    """A one-event calendar for `registration`'s session, as REQUEST or CANCEL (RFC 5546).

    `stamp` is when this message is made (DTSTAMP); `sequence` the attendee's own SEQUENCE
    (default: the session's), so each message a person gets orders after the one before
    it. A CANCEL of a cancelled session says `STATUS:CANCELLED`; one that uninvites only
    this person (their cancellation) has no STATUS, as RFC 5546 3.2.5 asks.
    """
    session: Session = registration.session
    frame = Calendar()
    frame.add("prodid", f"-//eventsapp//{base_host()}//DE")
    frame.add("version", "2.0")
    frame.add("calscale", "GREGORIAN")
    frame.add("method", method)
    head, _sep, _tail = frame.to_ical().decode().rpartition("END:VCALENDAR")
    whole_event = session.status == SessionStatus.CANCELLED
    lines = []
    for line in event_lines(session):
        if line.startswith("DTSTAMP:"):
            line = f"DTSTAMP:{utc_stamp(stamp)}"
        elif line.startswith("SEQUENCE:") and sequence is not None:
            line = f"SEQUENCE:{sequence}"
        elif line.startswith("STATUS:") and method == CANCEL:
            if not whole_event:
                continue  # uninviting one attendee: no STATUS
            line = "STATUS:CANCELLED"
        lines.append(line)
    state = ";PARTSTAT=ACCEPTED" if method == REQUEST else ""
    attendee = (
        f"ATTENDEE;CN={param_value(registration.name)};ROLE=REQ-PARTICIPANT{state}"
        f":mailto:{registration.email}"
    )
    lines.insert(-1, attendee)  # before END:VEVENT
    zone = vtimezone(session.timezone, session.starts_at.year)
    return head + zone + CRLF.join(fold(line) for line in lines) + CRLF + "END:VCALENDAR" + CRLF


def new_dates(title: str, sessions: list[Session]) -> str:
    """The dates of an announcement as one calendar (METHOD:PUBLISH)."""
    return build_feed(title, title, sessions).decode()
