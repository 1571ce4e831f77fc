"""The library's way for each piece of home-made infrastructure that benchmarks/infra.py
weighs: what eventsapp would do without it. Used by the benchmark only, never by the app.

- `email_message_render` / `flask_mail_render`: the outbox mail built with the standard
  library's `email.message.EmailMessage`, or with Flask-Mail's `Message.as_bytes()`, in
  place of `eventsapp.mail.mime.render` (same signature, same content).
- `icalendar_build_feed`: the feed built from icalendar objects (`Calendar`, `Event`) and
  `Calendar.to_ical()` in place of `eventsapp.calendar.events.build_feed` (same signature,
  same events; the rule-based VTIMEZONEs are kept, they are a separate decision).
- `uncached_feed_get`: `FeedCache.get` that builds on every request, as the first poll after
  a change does: what a user of the feed waits for when the builder matters.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from eventsapp.mail.mime import wrapped_text

# --- MIME ----------------------------------------------------------------------------------


def _one_line(value: str) -> str:
    return " ".join(value.splitlines()).strip()


def _calendar_part(mail) -> tuple[str, str]:
    method = (mail.ics_method or "PUBLISH").upper()
    return method, "einladung.ics" if method == "REQUEST" else "termine.ics"


def email_message_render(mail, *, sender: str, recipient: str, headers: dict[str, str]) -> bytes:
    """`eventsapp.mail.mime.render` through `email.message.EmailMessage` (policy SMTP)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = _one_line(sender)
    message["To"] = recipient
    message["Subject"] = _one_line(mail.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = _one_line(mail.message_id)
    message.set_content(wrapped_text(mail.body_text), cte="base64")
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html", cte="base64")
    if mail.ics:
        method, name = _calendar_part(mail)
        if method in ("REQUEST", "CANCEL"):  # the invitation as a third alternative, and a file
            message.add_alternative(
                mail.ics, subtype="calendar", cte="base64", params={"method": method}
            )
            message.add_attachment(
                mail.ics.encode(), maintype="application", subtype="ics", filename=name
            )
        else:
            message.add_attachment(
                mail.ics, subtype="calendar", cte="base64", filename=name, params={"method": method}
            )
    # After the content: set_content() drops every Content-* header (Content-Language too).
    for name, value in headers.items():
        message[_one_line(name)] = _one_line(value)
    return message.as_bytes()


def flask_mail_render(mail, *, sender: str, recipient: str, headers: dict[str, str]) -> bytes:
    """`eventsapp.mail.mime.render` through Flask-Mail's `Message.as_bytes()` (the first
    version of the outbox; the standard library's `email.mime` classes underneath)."""
    from flask_mail import Message

    message = Message(
        subject=_one_line(mail.subject),
        recipients=[recipient],
        body=wrapped_text(mail.body_text),
        html=mail.body_html or None,
        sender=_one_line(sender),
        extra_headers={_one_line(k): _one_line(v) for k, v in headers.items()},
    )
    message.msgId = _one_line(mail.message_id)
    if mail.ics:
        method, name = _calendar_part(mail)
        message.attach(name, f"text/calendar; method={method}; charset=utf-8", mail.ics.encode())
        if method in ("REQUEST", "CANCEL"):  # the same parts as ours, if not the same tree
            message.attach(name, "application/ics", mail.ics.encode())
    return message.as_bytes()


# --- iCalendar -----------------------------------------------------------------------------


@functools.cache
def _timezone_component(zone: str, year: int) -> Timezone:
    from eventsapp.calendar.text import vtimezone

    return Timezone.from_ical(vtimezone(zone, year))


def icalendar_build_feed(name, description, sessions, *, registration_statuses=None) -> bytes:
    """`eventsapp.calendar.events.build_feed` with one icalendar `Event` per session."""
    from datetime import timedelta

    from eventsapp.calendar import events
    from eventsapp.calendar.text import clean_text
    from eventsapp.models import RegistrationStatus, SessionStatus
    from eventsapp.urls import base_host, external_url

    statuses = registration_statuses or {}
    zones = {(s.timezone, s.starts_at.year) for s in sessions} or {
        (current_app.config["EVENTSAPP_TIMEZONE"], 2026)
    }
    first_year: dict[str, int] = {}
    for zone, year in zones:
        first_year[zone] = min(year, first_year.get(zone, year))
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
    for zone, year in sorted(first_year.items()):
        calendar.add_component(_timezone_component(zone, year))
    host_name = base_host()
    sender = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("<")[2].rstrip(">")
    for session in sessions:
        registration_status = statuses.get(session.id)
        url = external_url("public.session_detail", session_id=session.id)
        summary = session.format.title
        status = "CONFIRMED"
        if session.status == SessionStatus.CANCELLED:
            summary = _("Abgesagt: %(title)s", title=summary)
            status = "CANCELLED"
        elif registration_status == RegistrationStatus.WAITLISTED:
            summary = _("Warteliste: %(title)s", title=summary)
            status = "TENTATIVE"
        elif registration_status == RegistrationStatus.PENDING:
            status = "TENTATIVE"
        location = ", ".join(p for p in (session.venue_name, session.venue_address) if p)
        zone = ZoneInfo(session.timezone)
        event = Event()
        event.add("uid", f"session-{session.id}@{host_name}")
        event.add("dtstamp", session.updated_at)
        event.add("last-modified", session.updated_at)
        event.add("created", session.created_at)
        event.add("sequence", session.sequence)
        event.add("dtstart", session.starts_at.astimezone(zone))
        event.add("dtend", session.ends_at.astimezone(zone))
        event.add("summary", clean_text(summary))
        event.add("location", clean_text(location))
        event.add("description", clean_text(events._description(session, url)))
        event.add("url", url)
        host = session.host_organisation
        organizer = vCalAddress(f"mailto:{events.clean_address(host.contact_email or sender)}")
        organizer.params["CN"] = vText(clean_text(host.name).replace("\n", " "))
        event.add("organizer", organizer)
        event.add("status", status)
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()


def uncached_feed_get(self, spec):
    """`FeedCache.get` as on the first poll after a change: fingerprint, load, build, gzip."""
    from eventsapp.services import feeds

    return self._build(spec, feeds.fingerprint(spec))
