"""Announcing new dates: one digest per recipient when a format's drafts are published."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from eventsapp.calendar.events import PUBLISH, new_dates
from eventsapp.database import db
from eventsapp.mail.notifications import reply_to
from eventsapp.mail.outbox import enqueue_mail
from eventsapp.models import (
    Organisation,
    OrganisationKind,
    Publication,
    Session,
    SessionStatus,
    Subscription,
    SubscriptionStatus,
)
from eventsapp.services import sessions as listing
from eventsapp.services import subscriptions
from eventsapp.urls import external_url


def _partner_addresses(publication: Publication) -> list[tuple[str, str]]:
    """The partners' contact addresses, each with the language its mail is written in."""
    format = publication.format
    if format.announce_to_all_partners:
        partners = db.session.execute(
            select(Organisation).where(Organisation.kind == OrganisationKind.PARTNER)
        ).scalars()
    else:
        partners = format.announcement_partners
    return sorted({(p.contact_email, p.language or "de") for p in partners if p.contact_email})


def recipients(publication: Publication, *, now: datetime) -> list[Subscription]:
    """Confirmed subscribers and partner contacts, each address once, opt-outs left out."""
    for email, language in _partner_addresses(publication):
        subscriptions.partner_subscription(publication.format, email, language, now=now)
    return list(
        db.session.execute(
            select(Subscription)
            .where(
                Subscription.format_id == publication.format_id,
                Subscription.status == SubscriptionStatus.CONFIRMED,
            )
            .order_by(Subscription.id)
        ).scalars()
    )


def announce(publication: Publication, *, now: datetime) -> int:
    """Queue one digest per recipient listing the publication's dates that recipient may
    see, with an .ics and a one-click unsubscribe (RFC 8058). Returns how many digests were
    queued; a recipient who may see none of the dates gets nothing."""
    sessions = list(
        db.session.execute(
            select(Session)
            .where(
                Session.publication_id == publication.id, Session.status == SessionStatus.PUBLISHED
            )
            .order_by(Session.starts_at)
        ).scalars()
    )
    if not sessions:
        return 0
    format = publication.format
    ids = [s.id for s in sessions]
    calendars: dict[tuple[int, ...], str] = {}
    queued = 0
    for subscription in recipients(publication, now=now):
        audience = listing.audience_for_address(subscription.email)
        allowed = listing.visible_ids(audience, ids)
        shown = [s for s in sessions if s.id in allowed]
        if not shown:
            continue
        key = tuple(s.id for s in shown)
        key = (subscription.language, *key)  # the calendar's texts in the reader's language
        if key not in calendars:
            with force_locale(subscription.language):
                title = format.text("title", subscription.language)
                calendars[key] = new_dates(title, shown)
        unsubscribe = subscriptions.unsubscribe_url(subscription)
        message = enqueue_mail(
            dedupe_key=f"publication:{publication.id}:{subscription.email}",
            recipient=subscription.email,
            language=subscription.language,
            template="announcement",
            subject=_l(
                "Neue Termine: %(title)s", title=format.text("title", subscription.language)
            ),
            context={
                "format": format,
                "sessions": shown,
                "unsubscribe_url": unsubscribe,
                "format_url": external_url(
                    "public.format_detail", slug=format.slug, lang=subscription.language
                ),
                "session_url": lambda s, lang=subscription.language: external_url(
                    "public.session_detail", session_id=s.id, lang=lang
                ),
            },
            now=now,
            ics=calendars[key],
            ics_method=PUBLISH,
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                **reply_to(format.host_organisation),
            },
        )
        queued += message is not None
    publication.announced_at = now
    return queued
