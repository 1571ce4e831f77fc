"""Calendar attachments for mail: invitations (REQUEST), withdrawals (CANCEL), new dates.

An invitation names the registrant as ATTENDEE and carries the session's UID and SEQUENCE,
so a mail client updates the same calendar entry when the session moves or is cancelled.
"""

from __future__ import annotations

from icalendar import Calendar

from eventsapp.models import Registration, Session
from eventsapp.services.feeds import build_feed, event_lines
from eventsapp.services.ical import CRLF, fold, param_value, vtimezone
from eventsapp.urls import base_host

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"


def invitation(registration: Registration, method: str) -> str:
    """A one-event calendar for `registration`'s session, as REQUEST or CANCEL."""
    session: Session = registration.session
    frame = Calendar()
    frame.add("prodid", f"-//eventsapp//{base_host()}//DE")
    frame.add("version", "2.0")
    frame.add("calscale", "GREGORIAN")
    frame.add("method", method)
    head, _sep, _tail = frame.to_ical().decode().rpartition("END:VCALENDAR")
    lines = event_lines(session)
    if method == CANCEL:
        lines = [("STATUS:CANCELLED" if line.startswith("STATUS:") else line) for line in lines]
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
