"""Calendar feeds: which sessions a feed holds, its text, and a cache that a poll can trust.

A feed's body depends only on stored data (no "now" in DTSTAMP), so the same content always
gives the same bytes and the same strong ETag. Each feed has a fingerprint: one aggregate
query over what the body is made of. A cached body is served while its fingerprint matches.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased, joinedload

from eventsapp.calendar.events import build_feed
from eventsapp.database import core_connection, db
from eventsapp.models import (
    ACTIVE,
    AccessPurpose,
    Format,
    Organisation,
    PersonalFeed,
    Registration,
    RegistrationStatus,
    Session,
)
from eventsapp.services import access_links
from eventsapp.services.sessions import ANONYMOUS, audience_for_address, visible_sessions
from eventsapp.tokens import derive_token, hash_token, new_nonce
from eventsapp.urls import base_host, external_url

FEED_TOKEN = "personal-feed"  # noqa: S105 - the purpose of a derived token, not a secret
HISTORY = timedelta(days=90)  # past sessions stay in feeds this long


@dataclass(frozen=True)
class FeedSpec:
    """One feed: its cache key, title, and how to select its sessions.

    Title, description and query are only worked out when the feed is checked or built, so
    serving a cached feed costs no more than a dictionary lookup.
    """

    key: str
    name: str | LazyString
    description: str | LazyString
    query: Callable[[], Select]  # selects Session
    personal_email: str | None = None
    language: str | None = None  # of the entries; None: the site's default language

    @property
    def sessions(self) -> Select:
        return self.query()


@dataclass(frozen=True)
class FeedBody:
    body: bytes
    gzipped: bytes  # the same body with gzip content-coding, compressed once per build
    etag: str
    last_modified: datetime | None


# --- which sessions ------------------------------------------------------------------------


def window_start(now: datetime) -> datetime:
    """Sessions that ended after this are in feeds (a day boundary keeps bodies stable)."""
    start = now - HISTORY
    return start.replace(hour=0, minute=0, second=0, microsecond=0)


def _public(now: datetime) -> Select:
    """What calendar apps, which are anonymous, are shown."""
    return visible_sessions(ANONYMOUS).where(Session.ends_at > window_start(now))


def all_public_feed(now: datetime) -> FeedSpec:
    site = current_app.config["EVENTSAPP_SITE_NAME"]
    return FeedSpec(
        f"all:{window_start(now):%Y%m%d}",
        site,
        _l("Alle öffentlichen Termine von %(site)s", site=site),
        lambda: _public(now),
    )


def format_feed(format: Format, now: datetime) -> FeedSpec:
    return FeedSpec(
        f"format:{format.id}:{window_start(now):%Y%m%d}",
        format.title,
        format.summary or format.title,
        lambda: _public(now).where(Session.format_id == format.id),
    )


def organisation_feed(organisation: Organisation, now: datetime) -> FeedSpec:
    return FeedSpec(
        f"organisation:{organisation.id}:{window_start(now):%Y%m%d}",
        organisation.name,
        _l("Termine bei %(name)s", name=organisation.name),
        lambda: _public(now).where(Session.host_organisation_id == organisation.id),
    )


def session_feed(session: Session) -> FeedSpec:
    return FeedSpec(
        f"session:{session.id}",
        session.format.title,
        session.format.summary,
        lambda: select(Session).where(Session.id == session.id),
    )


def personal_feed_spec(feed: PersonalFeed, now: datetime) -> FeedSpec:
    """The sessions a person is registered for and, for an account, those its organisation
    hosts; among those the address may see (a session stays after a format turns
    partners-only, for the people registered)."""
    email = feed.email

    def query() -> Select:
        audience = audience_for_address(email)
        registered = select(Registration.session_id).where(
            Registration.email == email, Registration.status.in_(ACTIVE)
        )
        mine = Session.id.in_(registered)
        if audience.organisation_id is not None and audience.partners:
            mine = mine | (Session.host_organisation_id == audience.organisation_id)
        return visible_sessions(audience).where(mine, Session.ends_at > window_start(now))

    return FeedSpec(
        f"person:{feed.id}:{feed.token_hash[:12]}:{feed.language}:{window_start(now):%Y%m%d}",
        _l("Meine Termine"),
        current_app.config["EVENTSAPP_SITE_NAME"],
        query,
        email,
        feed.language,
    )


# --- loading, fingerprints and the cache ---------------------------------------------------


def load_sessions(spec: FeedSpec) -> list[Session]:
    stmt = spec.sessions.options(
        joinedload(Session.format), joinedload(Session.host_organisation)
    ).order_by(Session.starts_at, Session.id)
    return list(db.session.execute(stmt).unique().scalars())


def fingerprint(spec: FeedSpec) -> tuple:
    """Everything the feed's body is made of, in one aggregate query."""
    ids = spec.sessions.with_only_columns(Session.id).scalar_subquery()
    host = aliased(Organisation)
    row = db.session.execute(
        select(
            func.count(Session.id),
            func.max(Session.updated_at),
            func.max(Format.updated_at),
            func.max(host.updated_at),
        )
        .select_from(Session)
        .join(Format, Session.format_id == Format.id)
        .join(host, Session.host_organisation_id == host.id)
        .where(Session.id.in_(ids))
    ).one()
    extra: tuple = ()
    if spec.personal_email is not None:
        extra = tuple(
            db.session.execute(
                select(func.count(Registration.id), func.max(Registration.updated_at)).where(
                    Registration.email == spec.personal_email
                )
            ).one()
        )
    return (*row, *extra)


def _registration_statuses(
    spec: FeedSpec, sessions: list[Session]
) -> dict[int, RegistrationStatus] | None:
    """For a personal feed, the person's status per session (none: hosted by their
    organisation); None for every other feed."""
    if spec.personal_email is None:
        return None
    if not sessions:
        return {}
    rows = db.session.execute(
        select(Registration.session_id, Registration.status).where(
            Registration.email == spec.personal_email,
            Registration.status.in_(ACTIVE),
            Registration.session_id.in_([s.id for s in sessions]),
        )
    )
    return dict(rows.all())


class FeedCache:
    """Built feed bodies per process, each kept while its fingerprint is unchanged.

    The fingerprint is read again at most every `recheck_seconds` (FEED_RECHECK_SECONDS):
    under a burst of polls most requests then cost no database query at all, and a change
    reaches every feed within that many seconds.
    """

    def __init__(self, max_entries: int = 512) -> None:
        self._entries: dict[tuple, tuple[tuple, float, FeedBody]] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, spec: FeedSpec) -> FeedBody:
        key = (base_host(), spec.key)
        recheck = current_app.config["FEED_RECHECK_SECONDS"]
        with self._lock:
            cached = self._entries.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[1] < recheck:
            return cached[2]
        current = fingerprint(spec)
        if cached is not None and cached[0] == current:
            built = cached[2]
        else:
            built = self._build(spec, current)
        with self._lock:
            if key not in self._entries and len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (current, now, built)
        return built

    @staticmethod
    def _build(spec: FeedSpec, current: tuple) -> FeedBody:
        sessions = load_sessions(spec)
        # One body per feed for every client (calendar apps ask in no language): the texts
        # of its entries are the feed's language (a personal feed's, stored with it) or the
        # site's default language, whoever asked first.
        with force_locale(spec.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
            body = build_feed(
                str(spec.name),
                str(spec.description),
                sessions,
                registration_statuses=_registration_statuses(spec, sessions),
            )
        return FeedBody(
            body=body,
            gzipped=gzip.compress(body, compresslevel=6, mtime=0),
            etag=hashlib.sha256(body).hexdigest()[:32],
            last_modified=max(
                (t for t in (current[1], current[2], current[3]) if t is not None),
                default=None,
            ),
        )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def feed_cache() -> FeedCache:
    """This app's feed cache (each app has its own, created by `create_app`)."""
    return current_app.extensions["eventsapp.feed_cache"]


# --- personal feed tokens ------------------------------------------------------------------


def personal_feed_for(email: str, *, now: datetime, language: str | None = None) -> PersonalFeed:
    """The person's feed row, created when they first ask for it. The row is written with
    INSERT … ON CONFLICT DO NOTHING (on SQLite and PostgreSQL alike), so two requests of one
    person (two tabs, the manage page and the account page) cannot both create one."""
    feed = find_personal_feed_by_email(email)
    if feed is None:
        nonce = new_nonce()
        connection = core_connection(writes=True)
        connection.execute(
            _INSERT_FEED[connection.dialect.name],
            {
                "email": email,
                "token_nonce": nonce,
                "token_hash": hash_token(derive_token(FEED_TOKEN, nonce)),
                "created_at": now,
                "updated_at": now,
                "language": language or current_app.config["BABEL_DEFAULT_LOCALE"],
            },
        )
        feed = find_personal_feed_by_email(email)
    return feed


_INSERT_FEED = {
    name: insert(PersonalFeed.__table__).on_conflict_do_nothing(index_elements=["email"])
    for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


def find_personal_feed_by_email(email: str) -> PersonalFeed | None:
    return db.session.execute(
        select(PersonalFeed).where(PersonalFeed.email == email)
    ).scalar_one_or_none()


def personal_feed_url(email: str) -> str | None:
    """The address of the person's feed, if they have set one up."""
    feed = find_personal_feed_by_email(email)
    return external_url("feeds.personal", token=feed_token(feed)) if feed else None


def feed_token(feed: PersonalFeed) -> str:
    return derive_token(FEED_TOKEN, feed.token_nonce)


def set_up_or_renew(email: str, *, now: datetime, language: str) -> bool:
    """Create the address's feed, or revoke its links with a new token; True if created.
    Either way its entries are written in `language` from now on (the page's)."""
    feed = find_personal_feed_by_email(email)
    if feed is None:
        personal_feed_for(email, now=now, language=language)
        return True
    reset_personal_feed(feed, now=now)
    feed.language = language
    return False


def send_calendar_link(email: str, language: str, *, now: datetime) -> None:
    """Mail `email` a link (valid a day) to its personal calendar: the feed of all its
    registrations is shown only to whoever reads that mailbox."""
    access_links.mail_link(
        AccessPurpose.CALENDAR,
        email,
        language,
        endpoint="public.my_calendar",
        template="calendar_link",
        subject=_l(
            "Ihr persönlicher Kalender bei %(site)s", site=current_app.config["EVENTSAPP_SITE_NAME"]
        ),
        now=now,
    )


def reset_personal_feed(feed: PersonalFeed, *, now: datetime) -> None:
    """Revoke every link to this person's feed by giving it a new token."""
    feed.token_nonce = new_nonce()
    feed.token_hash = hash_token(derive_token(FEED_TOKEN, feed.token_nonce))
    feed.updated_at = now


def find_personal_feed(token: str) -> PersonalFeed | None:
    if not token or len(token) > 100:
        return None
    return db.session.execute(
        select(PersonalFeed).where(PersonalFeed.token_hash == hash_token(token))
    ).scalar_one_or_none()
