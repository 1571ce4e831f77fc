"""Rendering the mails about a registration, just before they are sent.

The service that changes a registration decides which mail the change gets and queues it
(`eventsapp.mail.outbox.queue_about`) as a deferred row, template and registration, in the
transaction of the change, once per event (dedupe key). The worker renders it here just
before sending: the request that takes a seat does not spend its time, or the seat lock's,
on templates. What a mail shows is then the state at sending time, a few seconds later at
most; the template (confirmed, waitlisted, cancelled …) is fixed when the change happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from eventsapp.calendar.events import CANCEL, clean_address, invitation
from eventsapp.database import db, utcnow
from eventsapp.mail.mime import QR_CONTENT_ID
from eventsapp.models import Registration, RegistrationStatus, SessionStatus
from eventsapp.models.registration import waitlist_position
from eventsapp.tokens import checkin_code, manage_token, spaced_code
from eventsapp.urls import external_url

SUBJECTS = {
    "registration_confirmed": _l("Anmeldung bestätigt: %(title)s"),
    "registration_pending": _l("Anmeldung eingegangen: %(title)s"),
    "registration_waitlisted": _l("Warteliste: %(title)s"),
    "registration_promoted": _l("Ein Platz ist frei geworden: %(title)s"),
    "registration_promoted_pending": _l("Ein Platz ist frei geworden: %(title)s"),
    "registration_cancelled": _l("Stornierung bestätigt: %(title)s"),
    "registration_link": _l("Ihr Link zur Anmeldung: %(title)s"),
    "registration_moved": _l("Ihr neuer Link zur Anmeldung: %(title)s"),
    "registration_rejected": _l("Ihre Anmeldung: %(title)s"),
    "registration_reminder": _l("Erinnerung: %(title)s"),
    "session_cancelled": _l("Abgesagt: %(title)s"),
    "session_changed": _l("Geänderter Termin: %(title)s"),
}


class RegistrationGone(LookupError):
    """What a deferred mail was about no longer holds: the registration is gone, or the
    place it announces was given up or its session cancelled before the mail went out (the
    mail about that change tells the truth instead)."""


# Mails that tell someone they hold a place (or will): void once that is no longer true.
ABOUT_A_PLACE = frozenset(
    {
        "registration_confirmed",
        "registration_pending",
        "registration_waitlisted",
        "registration_promoted",
        "registration_promoted_pending",
        "registration_reminder",
        "session_changed",
    }
)


# Mails that confirm a place carry the check-in code (QR code and the code in words).
WITH_CHECKIN_CODE = frozenset(
    {"registration_confirmed", "registration_promoted", "registration_reminder"}
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body_text: str
    body_html: str
    ics: str | None
    headers: str  # "Name: value" lines, as OutboxMessage.extra_headers keeps them
    checkin_code: str | None = None  # a confirmed place's, shown as a QR code


@dataclass(frozen=True)
class Before:
    """A session's time and place before a change (from the queued row's `context`), shaped
    like a session for the templates' date and time helpers."""

    starts_at: datetime
    ends_at: datetime
    venue_name: str
    venue_address: str
    timezone: str

    @classmethod
    def of(cls, context: dict | None, session) -> Before | None:
        if not context or "starts_at" not in context:
            return None
        return cls(
            starts_at=datetime.fromisoformat(context["starts_at"]),
            ends_at=datetime.fromisoformat(context["ends_at"]),
            venue_name=context.get("venue_name", ""),
            venue_address=context.get("venue_address", ""),
            timezone=session.timezone,
        )

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(ZoneInfo(self.timezone))

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(ZoneInfo(self.timezone))

    def moved_in_time(self, session) -> bool:
        return (self.starts_at, self.ends_at) != (session.starts_at, session.ends_at)

    def moved_in_place(self, session) -> bool:
        return (self.venue_name, self.venue_address) != (session.venue_name, session.venue_address)


def mail_context(
    registration: Registration, context: dict | None = None, language: str | None = None
) -> dict:
    """What the registration mail templates are rendered with, in `language` (default:
    the registration's)."""
    session = registration.session
    language = language or registration.language
    return {
        "registration": registration,
        "session": session,
        # Links open the page in the mail's language (and keep it, as ?lang= does).
        "manage_url": external_url(
            "public.registration", token=manage_token(registration), lang=language
        ),
        "session_url": external_url("public.session_detail", session_id=session.id, lang=language),
        "format_url": external_url("public.format_detail", slug=session.format.slug, lang=language),
        "position": waitlist_position(registration),
        "before": Before.of(context, session),
    }


def render(
    template: str,
    registration_id: int | None,
    language: str,
    ics_method: str | None,
    context: dict | None = None,
):
    """Subject, bodies and invitation of a deferred registration mail, in `language`;
    `context` is what the row kept of the moment it was queued."""
    registration = db.session.get(Registration, registration_id) if registration_id else None
    if registration is None:
        raise RegistrationGone(f"registration {registration_id} no longer exists")
    if template in ABOUT_A_PLACE and (
        not registration.is_active or registration.session.status == SessionStatus.CANCELLED
    ):
        raise RegistrationGone(f"not sent: registration {registration_id} holds no place any more")
    values = mail_context(registration, context, language)
    values["invitation"] = bool(ics_method)
    code = None
    if template in WITH_CHECKIN_CODE and registration.status == RegistrationStatus.CONFIRMED:
        code = checkin_code(registration)
        values["checkin_code"] = spaced_code(code)
        values["checkin_image"] = f"cid:{QR_CONTENT_ID}"
    subject = subject_of(template, registration, language)
    with force_locale(language):
        body_text = render_template(f"mail/{template}.txt", **values)
        body_html = render_template(f"mail/{template}.html", subject=subject, **values)
        ics = (
            invitation(
                registration,
                ics_method,
                stamp=utcnow(),
                sequence=attendee_sequence(registration, ics_method),
            )
            if ics_method
            else None
        )
    headers = reply_to(registration.session.host_organisation)
    lines = "\n".join(f"{name}: {value}" for name, value in headers.items())
    return Rendered(subject, body_text, body_html, ics, lines, code)


def attendee_sequence(registration: Registration, method: str) -> int:
    """The SEQUENCE of the invitation `registration`'s person gets now: the session's,
    raised by two for each earlier registration of the same address for this date and by
    one for the CANCEL of their own place, so register, cancel, register again, a move and
    a called-off date reach them in order (RFC 5546 2.1.4), while a change of the session
    still raises it for everyone."""
    session = registration.session
    earlier = db.session.execute(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.session_id == session.id,
            Registration.email == registration.email,
            Registration.id < registration.id,
        )
    ).scalar_one()
    uninvited = method == CANCEL and session.status != SessionStatus.CANCELLED
    return session.sequence + 2 * earlier + (1 if uninvited else 0)


def reply_to(host) -> dict[str, str]:
    """A reply to a mail about a session goes to its host's contact, the ORGANIZER of
    its invitation, not to the site's sender (From), which reads no mail; {} without one."""
    address = clean_address(host.contact_email or "")
    if not address:
        return {}
    name = " ".join(host.name.split())
    return {"Reply-To": formataddr((name, address), charset="utf-8")}


def subject_of(template: str, registration: Registration | None, language: str) -> str:
    """A registration mail's subject (also for mail not rendered yet, in data exports)."""
    title = registration.session.format.text("title", language) if registration else ""
    with force_locale(language):
        return str(SUBJECTS[template]) % {"title": title}
