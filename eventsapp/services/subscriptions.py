"""Following a format's announcements: double opt-in, proof of consent, one-click unsubscribe.

Nothing but a neutral confirmation mail goes to an address until its owner follows the link.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from eventsapp.database import db
from eventsapp.mail.outbox import enqueue_mail
from eventsapp.models import (
    Format,
    Subscription,
    SubscriptionSource,
    SubscriptionStatus,
    User,
)
from eventsapp.tokens import derive_token, hash_token, new_nonce
from eventsapp.urls import external_url

LINK_PURPOSE = "subscription"
# The wording a subscriber agrees to; change the version whenever the wording changes.
CONSENT_VERSION = "2026-12-a"
CONSENT_TEXT = _l(
    "Ich möchte per E-Mail erfahren, wenn neue Termine dieses Formats veröffentlicht werden. "
    "Ich kann das jederzeit mit einem Klick abbestellen."
)
UNCONFIRMED_DAYS = 7


def subscription_token(subscription: Subscription) -> str:
    return derive_token(LINK_PURPOSE, subscription.token_nonce)


def find_by_token(token: str) -> Subscription | None:
    if not token or len(token) > 100:
        return None
    return db.session.execute(
        select(Subscription).where(Subscription.token_hash == hash_token(token))
    ).scalar_one_or_none()


def _find(format: Format, email: str) -> Subscription | None:
    return db.session.execute(
        select(Subscription).where(Subscription.format_id == format.id, Subscription.email == email)
    ).scalar_one_or_none()


def _new(
    format: Format, email: str, language: str, source: SubscriptionSource, now: datetime
) -> Subscription:
    nonce = new_nonce()
    subscription = Subscription(
        format=format,
        email=email,
        language=language,
        source=source,
        status=SubscriptionStatus.PENDING,
        created_at=now,
        token_nonce=nonce,
        token_hash=hash_token(derive_token(LINK_PURPOSE, nonce)),
    )
    db.session.add(subscription)
    return subscription


def unsubscribe_url(subscription: Subscription) -> str:
    return external_url("public.unsubscribe", token=subscription_token(subscription))


def request_subscription(format: Format, email: str, language: str, *, now: datetime) -> None:
    """Start a double opt-in: one mail per request, nothing else.

    A new or pending address gets the confirmation link; a confirmed one is told that it
    follows the format already, with the link to stop. The caller shows the same page in
    every case, so the form reveals nobody's subscriptions; the per-address rate limit
    bounds how often one mailbox hears from us.
    """
    subscription = _find(format, email)
    already = subscription is not None and subscription.status == SubscriptionStatus.CONFIRMED
    if subscription is None:
        subscription = _new(format, email, language, SubscriptionSource.SELF, now)
    elif not already:  # pending again, or back after unsubscribing: a fresh consent is needed
        subscription.status = SubscriptionStatus.PENDING
        subscription.language = language
        subscription.created_at = now
    db.session.flush()
    title = format.text("title", language)
    context = {"format": format, "days": UNCONFIRMED_DAYS}
    if already:
        template = "subscription_already"
        subject = _l("Sie bekommen schon Hinweise: %(title)s", title=title)
        context["unsubscribe_url"] = unsubscribe_url(subscription)
    else:
        template = "subscription_confirm"
        subject = _l("Bitte bestätigen: Neue Termine von %(title)s", title=title)
        context["confirm_url"] = external_url(
            "public.confirm_subscription", token=subscription_token(subscription)
        )
    enqueue_mail(
        dedupe_key=f"subscription:{subscription.id}:request:{now.isoformat()}",
        recipient=email,
        language=language,
        template=template,
        subject=subject,
        context=context,
        now=now,
    )


def confirm(subscription: Subscription, *, now: datetime) -> None:
    """The link was followed: from now on the address hears about new dates."""
    if subscription.status != SubscriptionStatus.CONFIRMED:
        subscription.status = SubscriptionStatus.CONFIRMED
        subscription.confirmed_at = now
        subscription.unsubscribed_at = None
        subscription.consent_text_version = CONSENT_VERSION


def unsubscribe(subscription: Subscription, *, now: datetime) -> None:
    subscription.status = SubscriptionStatus.UNSUBSCRIBED
    subscription.unsubscribed_at = now


def follow_formats(user: User, formats: list[Format], wanted: set[int], *, now: datetime) -> None:
    """An account holder's choice of formats; the account's address is already verified."""
    for format in formats:
        subscription = _find(format, user.email)
        if format.id in wanted:
            if subscription is None:
                subscription = _new(
                    format, user.email, user.language, SubscriptionSource.ACCOUNT, now
                )
            confirm(subscription, now=now)
        elif subscription is not None and subscription.status == SubscriptionStatus.CONFIRMED:
            unsubscribe(subscription, now=now)
    db.session.flush()


def followed_format_ids(user: User) -> set[int]:
    return set(
        db.session.execute(
            select(Subscription.format_id).where(
                Subscription.email == user.email,
                Subscription.status == SubscriptionStatus.CONFIRMED,
            )
        ).scalars()
    )


def partner_subscription(
    format: Format, email: str, language: str = "de", *, now: datetime
) -> Subscription | None:
    """The announcement subscription of a partner's contact address, unless it opted out;
    its mail in the organisation's `language` (kept in step when an admin changes it)."""
    subscription = _find(format, email)
    if subscription is None:
        subscription = _new(format, email, language, SubscriptionSource.PARTNER, now)
        confirm(subscription, now=now)
        db.session.flush()
    elif subscription.source == SubscriptionSource.PARTNER:
        subscription.language = language
    if subscription.status == SubscriptionStatus.UNSUBSCRIBED:
        return None
    if subscription.status == SubscriptionStatus.PENDING:
        confirm(subscription, now=now)  # the admin set this address for the organisation
    return subscription


def delete_unconfirmed(*, now: datetime) -> int:
    """Forget addresses that did not confirm within a week."""
    result = db.session.execute(
        delete(Subscription).where(
            Subscription.status == SubscriptionStatus.PENDING,
            Subscription.created_at < now - timedelta(days=UNCONFIRMED_DAYS),
        )
    )
    return result.rowcount or 0
