"""Which sessions a visitor sees."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from eventsapp.database import db
from eventsapp.models import Format, Session, SessionStatus, Visibility


def _public_sessions():
    return (
        select(Session)
        .join(Session.format)
        .where(Format.visibility == Visibility.PUBLIC)
        .options(joinedload(Session.format), joinedload(Session.host_organisation))
    )


def upcoming_public_sessions(*, now: datetime, format: Format | None = None) -> list[Session]:
    """Published public sessions that have not ended, soonest first."""
    stmt = _public_sessions().where(
        Session.status == SessionStatus.PUBLISHED, Session.ends_at > now
    )
    if format is not None:
        stmt = stmt.where(Session.format_id == format.id)
    return list(db.session.execute(stmt.order_by(Session.starts_at, Session.id)).scalars())


def group_by_format(sessions: list[Session]) -> list[tuple[Format, list[Session]]]:
    groups: dict[Format, list[Session]] = defaultdict(list)
    for session in sessions:
        groups[session.format].append(session)
    return sorted(groups.items(), key=lambda item: item[1][0].starts_at)


def get_public_format(slug: str) -> Format | None:
    return db.session.execute(
        select(Format).where(Format.slug == slug, Format.visibility == Visibility.PUBLIC)
    ).scalar_one_or_none()


def get_visible_session(session_id: int) -> Session | None:
    """A public session a visitor may open: published or cancelled, never a draft."""
    return db.session.execute(
        _public_sessions().where(
            Session.id == session_id,
            Session.status.in_([SessionStatus.PUBLISHED, SessionStatus.CANCELLED]),
        )
    ).scalar_one_or_none()
