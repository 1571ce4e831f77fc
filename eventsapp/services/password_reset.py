"""Forgotten passwords: a short-lived, single-use set-password link, mailed on request.

The link is an invitation's link (an AccessLink of purpose PASSWORD, only its hash
stored) that lives an hour instead of three days. Setting a password by any route
deletes every such link of the account (`accounts.set_password`), so a link works once;
a new request deletes the account's older links first. The form's answer is the same
for every address: whether an account exists, is blocked or has no password yet is only
ever told to the mailbox, and a mail goes only to an existing, active account.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from eventsapp.mail.outbox import enqueue_mail
from eventsapp.models import AccessPurpose, User
from eventsapp.services import access_links, accounts
from eventsapp.tokens import hash_token

RESET_LIFETIME = timedelta(hours=1)


def hours_valid() -> int:
    return int(RESET_LIFETIME.total_seconds() // 3600)


def request_reset(email: str, *, now: datetime) -> None:
    """Mail a new set-password link to the active account with this address, if any."""
    user = accounts.find_user_by_email(email)
    if user is None or not user.active:
        return
    send_reset_link(user, now=now)


def send_reset_link(user: User, *, now: datetime) -> str:
    """Queue the reset mail (in the account's language) with a fresh link, valid for
    RESET_LIFETIME; links mailed before stop working. Returns the link's token."""
    access_links.revoke_links(user_id=user.id)
    token = accounts.password_link_token(user, now=now)
    link = access_links.find_link(AccessPurpose.PASSWORD, token, now=now)
    link.expires_at = now + RESET_LIFETIME  # an invitation's link, but for an hour only
    enqueue_mail(
        dedupe_key=f"user:{user.id}:password-reset:{hash_token(token)[:32]}",
        recipient=user.email,
        language=user.language,
        template="password_reset",
        subject=_l("Neues Passwort für %(site)s", site=current_app.config["EVENTSAPP_SITE_NAME"]),
        context={
            "user": user,
            "link": accounts.password_link_url(user, token),
            "hours": hours_valid(),
        },
        now=now,
    )
    return token
