"""Links mailed to an address, for what only the owner of that mailbox may do.

A manage link belongs to one registration; these belong to an address: seeing and erasing
one's data, the personal calendar of all one's registrations, setting a password. The
token is random (nothing personal in it) and only its hash is stored.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_babel import LazyString
from sqlalchemy import delete, select

from eventsapp.database import db
from eventsapp.mail.outbox import enqueue_mail
from eventsapp.models import AccessLink, AccessPurpose
from eventsapp.tokens import hash_token
from eventsapp.urls import external_url

LIFETIMES = {
    AccessPurpose.DATA: timedelta(hours=24),
    AccessPurpose.CALENDAR: timedelta(hours=24),
    AccessPurpose.PASSWORD: timedelta(hours=72),
    AccessPurpose.ADDRESS: timedelta(hours=24),
}


def issue_link(
    purpose: AccessPurpose,
    email: str,
    *,
    now: datetime,
    user_id: int | None = None,
    registration_id: int | None = None,
) -> str:
    """A new link token for `email`; the caller mails it (and only mails it)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccessLink(
            purpose=purpose,
            email=email,
            user_id=user_id,
            registration_id=registration_id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    return token


def mail_link(
    purpose: AccessPurpose,
    email: str,
    language: str,
    *,
    endpoint: str,
    template: str,
    subject: LazyString,
    now: datetime,
) -> None:
    """Queue the mail that carries a new link of `purpose` to `endpoint` (the link's
    template gets `link` and `hours`). Every request gets its own link and mail; the
    callers' rate limits bound how often."""
    token = issue_link(purpose, email, now=now)
    enqueue_mail(
        dedupe_key=f"{purpose.value}-link:{hash_token(token)[:32]}",
        recipient=email,
        language=language,
        template=template,
        subject=subject,
        context={
            "link": external_url(endpoint, token=token, lang=language),
            "hours": hours_valid(purpose),
        },
        now=now,
    )


def hours_valid(purpose: AccessPurpose) -> int:
    return int(LIFETIMES[purpose].total_seconds() // 3600)


def find_link(purpose: AccessPurpose, token: str, *, now: datetime) -> AccessLink | None:
    """The unexpired link of this purpose that `token` opens, else None."""
    if not token or len(token) > 100:
        return None
    link = db.session.execute(
        select(AccessLink).where(AccessLink.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if link is None or link.purpose != purpose or link.expires_at <= now:
        return None
    return link


def revoke_links(
    *,
    email: str | None = None,
    user_id: int | None = None,
    registration_ids: list[int] | None = None,
) -> None:
    """Every link of an address (erasure), of an account (its password was set) or of
    registrations (an address correction asked for and then erased or done)."""
    if email is not None:
        db.session.execute(delete(AccessLink).where(AccessLink.email == email))
    if user_id is not None:
        db.session.execute(delete(AccessLink).where(AccessLink.user_id == user_id))
    if registration_ids:
        db.session.execute(
            delete(AccessLink).where(AccessLink.registration_id.in_(registration_ids))
        )


def delete_expired(*, now: datetime) -> int:
    result = db.session.execute(delete(AccessLink).where(AccessLink.expires_at <= now))
    return result.rowcount or 0
