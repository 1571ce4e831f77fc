"""Accounts: password hashing, sign-in checks, invitations and password changes."""

from __future__ import annotations

import functools
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from eventsapp.database import db
from eventsapp.mail.outbox import enqueue_mail
from eventsapp.models import (
    AccessLink,
    AccessPurpose,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from eventsapp.services import access_links
from eventsapp.services.feeds import personal_feed_for
from eventsapp.tokens import hash_token
from eventsapp.urls import external_url

MIN_PASSWORD_LENGTH = 12


@functools.cache
def _hasher_for(time_cost: int, memory_cost: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    # Verified when no account matches, so a wrong email takes as long as a wrong password.
    return hasher, hasher.hash(secrets.token_urlsafe(16))


def _hasher() -> PasswordHasher:
    return _hasher_for(
        current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_COST"]
    )[0]


def _dummy_hash() -> str:
    return _hasher_for(
        current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_COST"]
    )[1]


class AccountError(ValueError):
    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _l("Das Passwort muss mindestens %(min)d Zeichen lang sein.", min=MIN_PASSWORD_LENGTH),
            field="password",
        )


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def authenticate(email: str, password: str, *, now: datetime) -> User | None:
    """The active user with this email and password, else None (same time either way)."""
    user = find_user_by_email(email)
    try:
        _hasher().verify(
            user.password_hash if user and user.password_hash else _dummy_hash(), password
        )
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.password_hash or not user.active:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    return user


def end_all_sessions(user: User) -> None:
    """Invalidate every login cookie of this user (logout, password change)."""
    user.auth_nonce = secrets.token_urlsafe(24)


def set_password(user: User, password: str, *, now: datetime) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    end_all_sessions(user)
    if user.id is not None:
        access_links.revoke_links(user_id=user.id)  # set-password links are single use


def change_password(user: User, current: str, new: str, *, now: datetime) -> None:
    try:
        _hasher().verify(user.password_hash or _dummy_hash(), current)
    except (VerificationError, InvalidHashError) as error:
        raise AccountError(_l("Das bisherige Passwort stimmt nicht."), field="current") from error
    set_password(user, new, now=now)


def password_link_token(user: User, *, now: datetime) -> str:
    """A set-password link for the account's address; void once a password is set."""
    return access_links.issue_link(AccessPurpose.PASSWORD, user.email, now=now, user_id=user.id)


def password_link_url(user: User, token: str) -> str:
    """The set-password page of `token`, opening in the account's language (the language
    of the mail that carries it); the visitor can still switch on the page."""
    return external_url("auth.set_password", token=token, lang=user.language)


def user_from_password_token(token: str, *, now: datetime) -> User | None:
    link = access_links.find_link(AccessPurpose.PASSWORD, token, now=now)
    if link is None or link.user_id is None:
        return None
    user = db.session.get(User, link.user_id)
    if user is None or not user.active or user.email != link.email:
        return None
    return user


def set_password_with_link(token: str, password: str, *, now: datetime) -> User | None:
    """Set the password through a set-password link and use the link up; None when the
    link does not open (any more). Of two requests with one link only the first sets a
    password: its row is deleted, and a second delete waits for that one and finds none."""
    user = user_from_password_token(token, now=now)
    if user is None:
        return None
    used = db.session.execute(
        delete(AccessLink).where(
            AccessLink.token_hash == hash_token(token),
            AccessLink.purpose == AccessPurpose.PASSWORD,
        )
    )
    if used.rowcount != 1:
        return None
    set_password(user, password, now=now)  # and every other link of the account stops
    return user


def create_user(
    *,
    email: str,
    name: str,
    role: Role,
    organisation: Organisation | None,
    language: str = "de",
    password: str | None = None,
    now: datetime,
) -> User:
    """Create an account; organisers and partners belong to an organisation of the right kind."""
    if find_user_by_email(email) is not None:
        raise AccountError(_l("Für diese E-Mail-Adresse gibt es schon ein Konto."), field="email")
    if role == Role.PARTNER and (
        organisation is None or organisation.kind != OrganisationKind.PARTNER
    ):
        raise AccountError(
            _l("Partnermitglieder gehören zu einer Partnerorganisation."), field="organisation"
        )
    if role == Role.ORGANISER and organisation is None:
        raise AccountError(_l("Veranstalter gehören zu einer Organisation."), field="organisation")
    user = User(
        email=email,
        name=name,
        role=role,
        organisation=organisation,
        language=language,
        active=True,
        created_at=now,
    )
    if password is not None:
        set_password(user, password, now=now)
    db.session.add(user)
    db.session.flush()
    personal_feed_for(email, now=now)
    return user


def invite_user(user: User, *, now: datetime) -> None:
    """Mail a link to set the password (valid for three days), through the outbox."""
    token = password_link_token(user, now=now)
    link = password_link_url(user, token)
    enqueue_mail(
        dedupe_key=f"user:{user.id}:invite:{hash_token(token)[:32]}",
        recipient=user.email,
        language=user.language,
        template="account_invitation",
        subject=_l("Ihr Zugang zu %(site)s", site=current_app.config["EVENTSAPP_SITE_NAME"]),
        context={
            "user": user,
            "link": link,
            "hours": access_links.hours_valid(AccessPurpose.PASSWORD),
        },
        now=now,
    )
