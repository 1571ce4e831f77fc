"""Correcting a registration's address: asked for on the manage page, done only when the
new mailbox's owner confirms a link mailed there.

Until then nothing changes, so a mistyped new address only gets a mail its owner can
ignore. Once confirmed, the registration has a new manage link (the old one, which may have
gone to a mistyped address, stops working), the new address gets it, and the old address is
told where its mail now goes (masked).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from eventsapp.database import core_connection, db
from eventsapp.emails import mask_address
from eventsapp.mail.outbox import enqueue_mail, queue_about
from eventsapp.models import ACTIVE, AccessLink, AccessPurpose, Registration
from eventsapp.services import access_links, seats
from eventsapp.services.ledger import RegistrationError
from eventsapp.tokens import REGISTRATION, derive_token, hash_token, new_nonce
from eventsapp.urls import external_url


class AddressTaken(RegistrationError):
    """The new address holds an active registration for the same session already."""


def request_change(registration: Registration, new_email: str, *, now: datetime) -> None:
    """Mail `new_email` a link that moves the registration there (valid 24 hours). Every
    request gets its own link; the form's rate limits bound how often."""
    token = access_links.issue_link(
        AccessPurpose.ADDRESS, new_email, now=now, registration_id=registration.id
    )
    session = registration.session
    enqueue_mail(
        dedupe_key=f"address-link:{hash_token(token)[:32]}",
        recipient=new_email,
        language=registration.language,
        template="address_confirm",
        subject=_l(
            "Bitte bestätigen Sie Ihre neue Adresse: %(title)s",
            title=session.format.text("title", registration.language),
        ),
        context={
            "link": external_url("public.confirm_address", token=token, lang=registration.language),
            "hours": access_links.hours_valid(AccessPurpose.ADDRESS),
            "session": session,
            "format": session.format,
            "name": registration.name,
            "language": registration.language,
        },
        now=now,
    )


def pending_change(token: str, *, now: datetime) -> tuple[AccessLink, Registration] | None:
    """The unexpired correction `token` opens, with its registration; None when the link is
    unknown, expired or the registration is no longer active."""
    link = access_links.find_link(AccessPurpose.ADDRESS, token, now=now)
    if link is None or link.registration_id is None:
        return None
    registration = db.session.get(Registration, link.registration_id)
    if registration is None or registration.status not in ACTIVE:
        return None
    return link, registration


def confirm_change(link: AccessLink, registration: Registration, *, now: datetime) -> str:
    """Move the registration to the link's address; returns its new manage token.

    Raises AddressTaken when that address holds an active registration for the same
    session (checked under the session's lock, like every registration)."""
    db.session.flush()
    connection = core_connection(writes=True)
    seats.lock(connection, registration.session_id)
    taken = connection.execute(
        select(Registration.id).where(
            Registration.session_id == registration.session_id,
            Registration.email == link.email,
            Registration.status.in_(ACTIVE),
            Registration.id != registration.id,
        )
    ).first()
    if taken is not None:
        raise AddressTaken("address registered already")
    old_email, new_email = registration.email, link.email
    nonce = new_nonce()
    token = derive_token(REGISTRATION, nonce)
    connection.execute(
        update(Registration)
        .where(Registration.id == registration.id)
        .values(email=new_email, token_nonce=nonce, token_hash=hash_token(token), updated_at=now)
    )
    db.session.expire(registration)
    access_links.revoke_links(registration_ids=[registration.id])
    queue_about(registration, f"address:{now.isoformat()}", "registration_moved", now)
    session = registration.session
    enqueue_mail(
        dedupe_key=f"registration:{registration.id}:moved-away:{now.isoformat()}",
        recipient=old_email,
        language=registration.language,
        template="address_changed",
        subject=_l(
            "Neue E-Mail-Adresse für Ihre Anmeldung: %(title)s",
            title=session.format.text("title", registration.language),
        ),
        context={
            "session": session,
            "format": session.format,
            "name": registration.name,
            "masked": mask_address(new_email),
            "language": registration.language,
        },
        now=now,
    )
    return token
