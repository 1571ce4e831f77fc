"""What a partner organisation's members do for their colleagues: register them into the
organisation's contingent, see and cancel the organisation's registrations, and hear about
the seats kept for them.

Every member of a partner organisation may coordinate: the organisations are small, and
who sends whom is theirs to settle. A registration belongs to an organisation when one of
its members made it, for a colleague or for themselves (`Registration.organisation_id`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from eventsapp.database import db
from eventsapp.mail.notifications import reply_to
from eventsapp.mail.outbox import enqueue_mail
from eventsapp.models import (
    Contingent,
    Registration,
    Role,
    Session,
    SessionStatus,
    User,
)
from eventsapp.services import registrations as rules
from eventsapp.services import seats
from eventsapp.services import sessions as listing
from eventsapp.urls import external_url

# How long before a contingent's release its organisation is told about unused seats.
RELEASE_NOTICE = timedelta(days=2)


def colleague_applicant(coordinator: User, name: str, email: str, language: str) -> rules.Applicant:
    """A colleague registered by a partner member: their own name, address and mail
    language; seats from the organisation's contingent first."""
    return rules.Applicant(
        name=name,
        email=email,
        organisation_name=coordinator.organisation.name,
        language=language,
        partner_organisation_id=coordinator.organisation_id,
    )


def register_colleague(
    session_id: int, coordinator: User, applicant: rules.Applicant, *, now: datetime
) -> None:
    """Register a colleague as if they had sent the form themselves: they get the mail and
    their own manage link. An address registered already gets its link again, and the
    coordinator is told the same as for a new one, so the form reveals nobody's
    registrations. Raises NoSuchSession or RegistrationClosed like `take_place`."""
    audience = listing.audience_of(coordinator).visibilities
    try:
        rules.take_place(session_id, applicant, now=now, audience=audience)
    except rules.AlreadyRegistered as error:
        rules.resend_manage_link(
            error.registration_id, applicant.email, applicant.language, now=now
        )


def organisation_registrations(organisation_id: int, *, now: datetime) -> list[Registration]:
    """The organisation's registrations for sessions that have not ended, the next session
    first, by name within a session."""
    return list(
        db.session.execute(
            select(Registration)
            .join(Session, Session.id == Registration.session_id)
            .where(Registration.organisation_id == organisation_id, Session.ends_at > now)
            .options(joinedload(Registration.session).joinedload(Session.format))
            .order_by(Session.starts_at, Registration.name, Registration.id)
        ).scalars()
    )


def registration_of_organisation(registration_id: int, member: User) -> Registration | None:
    """One of the member's organisation's registrations; None for anything else, so
    another organisation's registration is not confirmed to exist."""
    if not member.is_partner or member.organisation_id is None:
        return None
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.organisation_id != member.organisation_id:
        return None
    return registration


def _members(organisation_id: int) -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .where(
                User.organisation_id == organisation_id,
                User.role == Role.PARTNER,
                User.active.is_(True),
            )
            .order_by(User.id)
        ).scalars()
    )


def _recipients(contingent: Contingent) -> list[tuple[str, str]]:
    """Who hears about a contingent: the organisation's active members in their own
    language; the organisation's contact address, in the organisation's language, when it
    has no member with an account."""
    members = _members(contingent.organisation_id)
    if members:
        return [(member.email, member.language) for member in members]
    organisation = contingent.organisation
    if organisation.contact_email:
        return [(organisation.contact_email, organisation.language or "de")]
    return []


def _seats_used(contingent: Contingent, now: datetime) -> int:
    """How many of the kept seats the organisation's people hold, as the seat ledger counts
    them (contingents before their release time, which is all these mails are about)."""
    quota = seats.seat_ledger(contingent.session, now=now).quotas.get(contingent.organisation_id)
    return quota.used if quota is not None else 0


def _subject(event: str, title: str):
    if event == "created":
        return _l("Reservierte Plätze für Ihre Organisation: %(title)s", title=title)
    if event == "changed":
        return _l("Reservierte Plätze geändert: %(title)s", title=title)
    return _l("Reservierte Plätze werden bald freigegeben: %(title)s", title=title)


def notify_contingent(
    contingent: Contingent, event: str, *, now: datetime, used: int | None = None
) -> int:
    """Mail the organisation about its contingent (`event`: created, changed, releasing):
    the session, the seats kept and `used` (counted here unless given), and until when.
    Returns how many mails were queued."""
    session = contingent.session
    if session.status != SessionStatus.PUBLISHED:
        return 0  # a draft's contingent is announced with nothing; publishing shows it
    if used is None:
        used = _seats_used(contingent, now)
    queued = 0
    for email, language in _recipients(contingent):
        message = enqueue_mail(
            # A change is news each time; "releasing" once per release time.
            dedupe_key=(
                f"contingent:{contingent.id}:{event}:"
                f"{(contingent.release_at if event == 'releasing' else now).isoformat()}:{email}"
            ),
            recipient=email,
            language=language,
            template="contingent_notice",
            subject=_subject(event, session.format.text("title", language)),
            context={
                "event": event,
                "session": session,
                "format": session.format,
                "language": language,
                "seats": contingent.seats,
                "used": used,
                "release_at": contingent.release_at,
                "session_url": external_url(
                    "public.session_detail", session_id=session.id, lang=language
                ),
                "account_url": external_url("auth.account", lang=language) + "#organisation",
            },
            now=now,
            headers=reply_to(session.host_organisation),
        )
        queued += message is not None
    return queued


def send_release_notices(*, now: datetime) -> int:
    """Tell each organisation once, `RELEASE_NOTICE` before its contingent's release, that
    seats it has not used are about to go to everyone. Returns how many mails were queued."""
    due = db.session.execute(
        select(Contingent)
        .join(Session, Session.id == Contingent.session_id)
        .where(
            Contingent.release_notice_sent_at.is_(None),
            Contingent.release_at > now,
            Contingent.release_at <= now + RELEASE_NOTICE,
            Session.status == SessionStatus.PUBLISHED,
        )
        .options(joinedload(Contingent.session).joinedload(Session.format))
        .order_by(Contingent.release_at, Contingent.id)
    ).scalars()
    queued = 0
    for contingent in due:
        contingent.release_notice_sent_at = now
        used = _seats_used(contingent, now)
        if used < contingent.seats:
            queued += notify_contingent(contingent, "releasing", now=now, used=used)
    return queued
