"""What the platform holds about one email address: export it, erase it, let it expire.

Registrations are anonymised rather than deleted, so attendance counts survive; everything
that names the person (registrations, subscriptions, the personal feed, queued and sent mail,
an account) loses the address.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, case, delete, exists, or_, select, update

from eventsapp.database import db
from eventsapp.mail import notifications
from eventsapp.models import (
    ACTIVE,
    AccessPurpose,
    OutboxMessage,
    OutboxStatus,
    PersonalFeed,
    Registration,
    Session,
    Subscription,
    User,
)
from eventsapp.services import access_links, feedback
from eventsapp.services.registrations import cancel_registration
from eventsapp.tokens import hash_token

ERASED = "erased"


def send_data_link(email: str, language: str, *, now: datetime) -> None:
    """Mail a link (valid a day) to see, download or erase what is held about `email`.

    The same answer is given for every address, so the form reveals nothing; the link is a
    random token, so it carries no trace of the address either.
    """
    access_links.mail_link(
        AccessPurpose.DATA,
        email,
        language,
        endpoint="public.my_data",
        template="personal_data_link",
        subject=_l("Ihre Daten bei %(site)s", site=current_app.config["EVENTSAPP_SITE_NAME"]),
        now=now,
    )


def email_from_token(token: str, *, now: datetime) -> str | None:
    """The address a data link was mailed to, while the link is valid."""
    link = access_links.find_link(AccessPurpose.DATA, token, now=now)
    return link.email if link is not None else None


def mails_about(email: str) -> ColumnElement[bool]:
    """Outbox rows that hold the address: mail to it, and accessibility feedback that
    names it as the writer's reply address (in a header and the text). Other mail may name
    an address too without being about that person: a host's contact is the Reply-To and
    often the practical contact of every mail about its sessions, and those mails are the
    recipients' data, not the contact's (exporting or erasing them would hand out or delete
    other people's mail)."""
    feedback_naming_it = OutboxMessage.dedupe_key.startswith(
        "accessibility-feedback:", autoescape=True
    ) & or_(
        OutboxMessage.extra_headers.contains(email, autoescape=True),
        OutboxMessage.body_text.contains(email, autoescape=True),
    )
    return or_(OutboxMessage.recipient == email, feedback_naming_it)


def _subject(mail: OutboxMessage) -> str:
    """A registration mail the worker has not rendered yet has no subject stored."""
    if mail.subject or not mail.deferred_template:
        return mail.subject
    registration = (
        db.session.get(Registration, mail.registration_id) if mail.registration_id else None
    )
    return notifications.subject_of(mail.deferred_template, registration, mail.language)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export(email: str) -> dict[str, Any]:
    """Everything held about an address, as plain data."""
    registrations = (
        db.session.execute(
            select(Registration).where(Registration.email == email).order_by(Registration.id)
        )
        .scalars()
        .all()
    )
    subscriptions = (
        db.session.execute(
            select(Subscription).where(Subscription.email == email).order_by(Subscription.id)
        )
        .scalars()
        .all()
    )
    user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    feed = db.session.execute(
        select(PersonalFeed).where(PersonalFeed.email == email)
    ).scalar_one_or_none()
    mails = (
        db.session.execute(
            select(OutboxMessage).where(mails_about(email)).order_by(OutboxMessage.id)
        )
        .scalars()
        .all()
    )
    return {
        "email": email,
        "registrations": [
            {
                "session": r.session.format.title,
                "starts_at": _iso(r.session.starts_at),
                "venue": r.session.venue_name,
                "name": r.name,
                "organisation": r.organisation_name,
                "question": r.question,
                "question_may_name_you": r.question_named,
                "language": r.language,
                "status": r.status.value,
                "registered_at": _iso(r.created_at),
                "consented_at": _iso(r.consented_at),
                "attended": r.attended,
            }
            for r in registrations
        ],
        "subscriptions": [
            {
                "format": s.format.title,
                "status": s.status.value,
                "source": s.source.value,
                "language": s.language,
                "requested_at": _iso(s.created_at),
                "confirmed_at": _iso(s.confirmed_at),
                "consent_text_version": s.consent_text_version,
            }
            for s in subscriptions
        ],
        "account": None
        if user is None
        else {
            "name": user.name,
            "role": user.role.value,
            "organisation": user.organisation.name if user.organisation else None,
            "language": user.language,
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
        },
        "calendar_feed": None if feed is None else {"created_at": _iso(feed.created_at)},
        # Answers to feedback are anonymous: nothing here says whether or what one gave.
        "feedback_mails": feedback.wants_feedback_mail(email),
        "mails": [
            {
                "subject": _subject(m),
                "to_you": m.recipient == email,
                "status": m.status.value,
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
            }
            for m in mails
        ],
    }


def _anonymise(registration: Registration, now: datetime) -> None:
    registration.name = ""
    registration.email = f"{ERASED}-{registration.id}"
    registration.organisation_name = ""
    registration.question = ""
    registration.question_named = False
    registration.token_nonce = secrets.token_urlsafe(24)
    registration.token_hash = hash_token(secrets.token_urlsafe(32))  # the manage link dies
    registration.anonymised_at = now


def erase(email: str, *, now: datetime) -> None:
    """Remove the address everywhere. Active registrations of future sessions are cancelled
    first (their seats go to the waitlist), then every registration is anonymised."""
    registrations = (
        db.session.execute(select(Registration).where(Registration.email == email)).scalars().all()
    )
    for registration in registrations:
        if registration.status in ACTIVE and registration.session.starts_at > now:
            cancel_registration(registration, now=now)
    # Whatever was queued for or names the address goes, the cancellation mails above too.
    db.session.execute(delete(OutboxMessage).where(mails_about(email)))
    access_links.revoke_links(email=email, registration_ids=[r.id for r in registrations])
    feedback.stop_feedback_mail(email)  # open feedback links close
    feedback.allow_feedback_mail(email)  # and the address leaves the "no feedback" list
    for registration in registrations:
        _anonymise(registration, now)
    db.session.execute(delete(Subscription).where(Subscription.email == email))
    db.session.execute(delete(PersonalFeed).where(PersonalFeed.email == email))
    user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is not None:
        user.email = f"{ERASED}-{user.id}"
        user.name = ""
        user.active = False
        user.password_hash = None
        user.auth_nonce = secrets.token_urlsafe(24)
    db.session.flush()


def anonymise_past_registrations(*, now: datetime, retention_days: int) -> int:
    """Registrations of sessions that ended more than `retention_days` ago lose name and
    address; status and attendance stay for the statistics. Their mail, in whatever state,
    loses address and text, and a personal feed whose address is left with nothing goes."""
    ended = select(Session.id).where(Session.ends_at < now - timedelta(days=retention_days))
    registrations = (
        db.session.execute(
            select(Registration).where(
                Registration.session_id.in_(ended), Registration.anonymised_at.is_(None)
            )
        )
        .scalars()
        .all()
    )
    for registration in registrations:
        _anonymise(registration, now)
    if registrations:
        forget_mail(OutboxMessage.registration_id.in_([r.id for r in registrations]), now=now)
    # A personal feed lists an address's registrations; with none left (and no account) the
    # feed, and the address it keeps, go too.
    db.session.execute(
        delete(PersonalFeed).where(
            ~exists().where(Registration.email == PersonalFeed.email),
            ~exists().where(User.email == PersonalFeed.email),
        )
    )
    return len(registrations)


def forget_mail(condition: ColumnElement[bool], *, now: datetime) -> int:
    """Keep only the record that a mail existed: no address, subject, text or headers.

    Mail not sent yet is given up (dead): there is nothing left to send.
    """
    result = db.session.execute(
        update(OutboxMessage)
        .where(condition, OutboxMessage.status != OutboxStatus.SENDING)
        .where(OutboxMessage.purged_at.is_(None) | (OutboxMessage.recipient != ""))
        .values(
            recipient="",
            subject="",
            body_text="",
            body_html=None,
            ics=None,
            checkin_code=None,
            extra_headers="",
            deferred_template=None,
            purged_at=now,
            status=case(
                (OutboxMessage.status == OutboxStatus.SENT, OutboxStatus.SENT.value),
                else_=OutboxStatus.DEAD.value,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
