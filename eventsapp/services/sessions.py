"""Which formats and sessions a viewer may see.

Anonymous visitors see public formats; account holders (partner members, organisers,
admins) also see formats for partners. Drafts are never shown on the public side.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from eventsapp.database import db
from eventsapp.models import Format, Organisation, Session, SessionStatus, User, Visibility

VISIBLE_STATUSES = (SessionStatus.PUBLISHED, SessionStatus.CANCELLED)


def visible_visibilities(viewer: User | None) -> tuple[Visibility, ...]:
    if viewer is not None and viewer.is_authenticated:
        return (Visibility.PUBLIC, Visibility.PARTNERS)
    return (Visibility.PUBLIC,)


def _visible_sessions(viewer: User | None) -> Select:
    return (
        select(Session)
        .join(Session.format)
        .where(Format.visibility.in_(visible_visibilities(viewer)))
        .options(joinedload(Session.format), joinedload(Session.host_organisation))
    )


def upcoming_sessions(
    *,
    now: datetime,
    viewer: User | None = None,
    format: Format | None = None,
    host: Organisation | None = None,
) -> list[Session]:
    """Published sessions the viewer may see that have not ended, soonest first."""
    stmt = _visible_sessions(viewer).where(
        Session.status == SessionStatus.PUBLISHED, Session.ends_at > now
    )
    if format is not None:
        stmt = stmt.where(Session.format_id == format.id)
    if host is not None:
        stmt = stmt.where(Session.host_organisation_id == host.id)
    return list(db.session.execute(stmt.order_by(Session.starts_at, Session.id)).scalars())


def group_by_format(sessions: list[Session]) -> list[tuple[Format, list[Session]]]:
    groups: dict[Format, list[Session]] = defaultdict(list)
    for session in sessions:
        groups[session.format].append(session)
    return sorted(groups.items(), key=lambda item: item[1][0].starts_at)


def get_visible_format(slug: str, viewer: User | None = None) -> Format | None:
    return db.session.execute(
        select(Format).where(
            Format.slug == slug, Format.visibility.in_(visible_visibilities(viewer))
        )
    ).scalar_one_or_none()


def get_organisation(slug: str) -> Organisation | None:
    return db.session.execute(
        select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()


def get_visible_session(session_id: int, viewer: User | None = None) -> Session | None:
    """A session the viewer may open: published or cancelled, never a draft."""
    return db.session.execute(
        _visible_sessions(viewer).where(
            Session.id == session_id, Session.status.in_(VISIBLE_STATUSES)
        )
    ).scalar_one_or_none()


def followable_formats(viewer: User) -> list[Format]:
    """Formats an account holder may follow: those they can see."""
    return list(
        db.session.execute(
            select(Format)
            .where(Format.visibility.in_(visible_visibilities(viewer)))
            .order_by(Format.title)
        ).scalars()
    )
