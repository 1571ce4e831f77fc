"""What organisers see first: their next sessions and a month at a glance."""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from eventsapp.access import managed_formats_filter
from eventsapp.database import db
from eventsapp.models import Format, Organisation, OrganisationKind, Session, SessionStatus, User


def managed_sessions(user: User):
    stmt = (
        select(Session)
        .join(Session.format)
        .options(joinedload(Session.format), joinedload(Session.host_organisation))
    )
    return managed_formats_filter(stmt, user)


def next_sessions(user: User, *, now: datetime, limit: int = 12) -> list[Session]:
    stmt = (
        managed_sessions(user)
        .where(Session.ends_at > now, Session.status != SessionStatus.DRAFT)
        .order_by(Session.starts_at)
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def managed_formats(user: User) -> list[Format]:
    stmt = managed_formats_filter(select(Format), user).order_by(Format.title)
    return list(db.session.execute(stmt).scalars())


def month_grid(
    user: User, year: int, month: int, timezone: str
) -> tuple[list[list[date | None]], dict[date, list[Session]]]:
    """Weeks of the month (Monday first) and the sessions on each local day."""
    zone = ZoneInfo(timezone)
    first = date(year, month, 1)
    after = (first + timedelta(days=32)).replace(day=1)
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(after, time(0), zone)
    stmt = (
        managed_sessions(user)
        .where(Session.starts_at >= start, Session.starts_at < end)
        .order_by(Session.starts_at)
    )
    by_day: dict[date, list[Session]] = defaultdict(list)
    for session in db.session.execute(stmt).scalars():
        by_day[session.starts_at.astimezone(zone).date()].append(session)
    weeks = [
        [day if day.month == month else None for day in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]
    return weeks, by_day


def host_choices(user: User) -> list[tuple[int, str]]:
    """Organisations a user may pick as host: admins any, organisers their own."""
    stmt = select(Organisation).order_by(Organisation.kind, Organisation.name)
    if not user.is_admin:
        stmt = stmt.where(Organisation.id == user.organisation_id)
    return [(o.id, o.name) for o in db.session.execute(stmt).scalars()]


def session_host_choices(user: User) -> list[tuple[int, str]]:
    """A session may be hosted by the format's organiser or by any partner."""
    stmt = select(Organisation).order_by(Organisation.kind, Organisation.name)
    if not user.is_admin:
        stmt = stmt.where(
            (Organisation.id == user.organisation_id)
            | (Organisation.kind == OrganisationKind.PARTNER)
        )
    return [(o.id, o.name) for o in db.session.execute(stmt).scalars()]


def partner_choices() -> list[tuple[int, str]]:
    stmt = (
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.PARTNER)
        .order_by(Organisation.name)
    )
    return [(o.id, o.name) for o in db.session.execute(stmt).scalars()]
