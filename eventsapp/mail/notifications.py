"""The mails a registration change causes, each queued once per event (dedupe key)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from eventsapp.mail.outbox import enqueue_mail
from eventsapp.models import Registration, RegistrationStatus
from eventsapp.services import invitations
from eventsapp.services.tokens import manage_token
from eventsapp.urls import external_url


def _context(registration: Registration) -> dict:
    session = registration.session
    return {
        "registration": registration,
        "session": session,
        "manage_url": external_url("public.registration", token=manage_token(registration)),
        "session_url": external_url("public.session_detail", session_id=session.id),
    }


def _queue(
    registration: Registration,
    event: str,
    template: str,
    subject,
    now: datetime,
    invite: str | None = None,
) -> None:
    """Queue one mail; `invite` (REQUEST or CANCEL) attaches the calendar entry."""
    enqueue_mail(
        dedupe_key=f"registration:{registration.id}:{event}",
        recipient=registration.email,
        language=registration.language,
        template=template,
        subject=subject,
        context=_context(registration),
        now=now,
        ics=invitations.invitation(registration, invite) if invite else None,
        ics_method=invite,
    )


def _title(registration: Registration) -> str:
    return registration.session.format.text("title", registration.language)


def _invite_if_confirmed(registration: Registration) -> str | None:
    return invitations.REQUEST if registration.status == RegistrationStatus.CONFIRMED else None


def registration_received(registration: Registration, *, now: datetime) -> None:
    """Confirmation, pending approval or waitlist mail, by the status the applicant got."""
    title = _title(registration)
    if registration.status == RegistrationStatus.WAITLISTED:
        subject = _l("Warteliste: %(title)s", title=title)
        template = "registration_waitlisted"
    elif registration.status == RegistrationStatus.PENDING:
        subject = _l("Anmeldung eingegangen: %(title)s", title=title)
        template = "registration_pending"
    else:
        subject = _l("Anmeldung bestätigt: %(title)s", title=title)
        template = "registration_confirmed"
    _queue(registration, "received", template, subject, now, _invite_if_confirmed(registration))


def registration_promoted(registration: Registration, *, now: datetime) -> None:
    title = _title(registration)
    subject = _l("Ein Platz ist frei geworden: %(title)s", title=title)
    template = "registration_promoted"
    if registration.status == RegistrationStatus.PENDING:
        template = "registration_promoted_pending"
    _queue(registration, "promoted", template, subject, now, _invite_if_confirmed(registration))


def registration_cancelled(registration: Registration, *, now: datetime) -> None:
    subject = _l("Abmeldung bestätigt: %(title)s", title=_title(registration))
    _queue(registration, "cancelled", "registration_cancelled", subject, now, invitations.CANCEL)


def manage_link(registration: Registration, *, now: datetime) -> None:
    subject = _l("Ihr Link zur Anmeldung: %(title)s", title=_title(registration))
    _queue(registration, f"link:{now:%Y%m%d%H}", "registration_link", subject, now)


def registration_approved(registration: Registration, *, now: datetime) -> None:
    subject = _l("Anmeldung bestätigt: %(title)s", title=_title(registration))
    _queue(registration, "approved", "registration_confirmed", subject, now, invitations.REQUEST)


def registration_rejected(registration: Registration, *, now: datetime) -> None:
    subject = _l("Ihre Anmeldung: %(title)s", title=_title(registration))
    _queue(registration, "rejected", "registration_rejected", subject, now, invitations.CANCEL)


def session_cancelled(registration: Registration, *, now: datetime) -> None:
    subject = _l("Abgesagt: %(title)s", title=_title(registration))
    _queue(registration, "session-cancelled", "session_cancelled", subject, now, invitations.CANCEL)


def session_changed(registration: Registration, *, now: datetime) -> None:
    """Time or place changed; one mail per change (the session's sequence number)."""
    session = registration.session
    subject = _l("Geänderter Termin: %(title)s", title=_title(registration))
    _queue(
        registration,
        f"session-changed:{session.sequence}",
        "session_changed",
        subject,
        now,
        _invite_if_confirmed(registration),
    )


def reminder(registration: Registration, minutes: int, *, now: datetime) -> None:
    """A reminder before the session, once per offset and start time."""
    session = registration.session
    subject = _l("Erinnerung: %(title)s", title=_title(registration))
    event = f"reminder:{minutes}:{session.starts_at:%Y%m%dT%H%M}"
    _queue(registration, event, "registration_reminder", subject, now)
