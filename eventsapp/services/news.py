"""What happened to a format's or an organisation's dates, for the Atom feeds that partner
websites and messenger bots follow: new dates announced, a date moved, a date called off.

Built from the sessions as they are now, through the one visibility rule for anonymous
visitors (feed readers are anonymous): a partners-only format or a draft never appears.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.orm import joinedload

from eventsapp.database import db
from eventsapp.models import Format, Organisation, Session
from eventsapp.services.sessions import audience_of, visible_sessions

# Older news has no use on a website; a reader that polls less often than this missed it.
HORIZON = timedelta(days=365)
MOST = 50


@dataclass(frozen=True)
class NewsEntry:
    kind: str  # "new-dates", "rescheduled" or "cancelled"
    key: str  # unique within the site, never reused: part of the entry's id
    happened_at: datetime
    format: Format
    sessions: tuple[Session, ...]  # new dates: those still visible; else the one date

    @property
    def session(self) -> Session:
        return self.sessions[0]


def news(
    *, now: datetime, format: Format | None = None, host: Organisation | None = None
) -> list[NewsEntry]:
    """The latest news of one format or host, newest first."""
    since = now - HORIZON
    stmt = (
        visible_sessions(audience_of(None))
        .where(
            or_(
                Session.published_at >= since,
                Session.cancelled_at >= since,
                Session.rescheduled_at >= since,
            )
        )
        .options(joinedload(Session.format), joinedload(Session.host_organisation))
        .order_by(Session.starts_at, Session.id)
    )
    if format is not None:
        stmt = stmt.where(Session.format_id == format.id)
    if host is not None:
        stmt = stmt.where(Session.host_organisation_id == host.id)
    sessions = list(db.session.execute(stmt).unique().scalars())

    entries: list[NewsEntry] = []
    published: dict[tuple, list[Session]] = defaultdict(list)
    for session in sessions:
        if session.published_at is not None and session.published_at >= since:
            # Dates published together (one publication) are one piece of news.
            group = session.publication_id or f"s{session.id}"
            published[(group, session.published_at)].append(session)
        if session.rescheduled_at is not None and session.rescheduled_at >= since:
            entries.append(
                NewsEntry(
                    "rescheduled",
                    f"session-{session.id}-moved-{session.rescheduled_at:%Y%m%dT%H%M%SZ}",
                    session.rescheduled_at,
                    session.format,
                    (session,),
                )
            )
        if session.cancelled_at is not None and session.cancelled_at >= since:
            entries.append(
                NewsEntry(
                    "cancelled",
                    f"session-{session.id}-cancelled",
                    session.cancelled_at,
                    session.format,
                    (session,),
                )
            )
    for (group, published_at), dates in published.items():
        entries.append(
            NewsEntry(
                "new-dates",
                f"publication-{group}",
                published_at,
                dates[0].format,
                tuple(dates),
            )
        )
    entries.sort(key=lambda entry: (entry.happened_at, entry.key), reverse=True)
    return entries[:MOST]
