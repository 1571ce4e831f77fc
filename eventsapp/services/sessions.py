"""Which formats and sessions a viewer may see: the one visibility rule.

Every listing of sessions (pages, API, calendar feeds, announcements, reminders) selects
from `visible_sessions(audience)`, so the rule exists once:

- drafts are never shown outside the back office;
- formats for partners are seen by account holders (partner members, organisers, admins)
  and by the partner organisations' contact addresses, which announcements go to;
- an address sees the sessions it holds a registration for (an organiser may have added
  someone by hand, or the format may have become partners-only after they registered);
- everyone else sees public formats.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, false, select
from sqlalchemy.orm import joinedload

from eventsapp.database import db
from eventsapp.models import (
    ACTIVE,
    Format,
    Organisation,
    OrganisationKind,
    Registration,
    Session,
    SessionStatus,
    User,
    Visibility,
)

VISIBLE_STATUSES = (SessionStatus.PUBLISHED, SessionStatus.CANCELLED)


@dataclass(frozen=True)
class Audience:
    """Who a listing is for.

    `partners`: may see formats for partners. `email`: an address whose owner is known to
    be reading (a signed-in account, a subscriber's mail, a personal feed); its own
    registrations are visible to it. `organisation_id`: the organisation it belongs to.
    """

    partners: bool = False
    email: str | None = None
    organisation_id: int | None = None

    @property
    def visibilities(self) -> tuple[Visibility, ...]:
        if self.partners:
            return (Visibility.PUBLIC, Visibility.PARTNERS)
        return (Visibility.PUBLIC,)


ANONYMOUS = Audience()


def audience_of(viewer: User | None) -> Audience:
    """The audience of a signed-in account (or of an anonymous visitor)."""
    if viewer is None or not viewer.is_authenticated or not viewer.active:
        return ANONYMOUS
    return Audience(partners=True, email=viewer.email, organisation_id=viewer.organisation_id)


def audience_for_address(email: str) -> Audience:
    """The audience of mail or a feed that goes to `email`: an account's if the address
    has an active one, a partner's if it is a partner organisation's contact address."""
    user = db.session.execute(
        select(User).where(User.email == email, User.active.is_(True))
    ).scalar_one_or_none()
    if user is not None:
        return audience_of(user)
    partner = db.session.execute(
        select(Organisation.id)
        .where(Organisation.contact_email == email, Organisation.kind == OrganisationKind.PARTNER)
        .limit(1)
    ).scalar_one_or_none()
    return Audience(partners=partner is not None, email=email, organisation_id=partner)


def visible(audience: Audience) -> ColumnElement[bool]:
    """THE rule, as a condition on Session joined with its Format."""
    registered = false()
    if audience.email:
        registered = Session.id.in_(
            select(Registration.session_id).where(
                Registration.email == audience.email, Registration.status.in_(ACTIVE)
            )
        )
    return Session.status.in_(VISIBLE_STATUSES) & (
        Format.visibility.in_(audience.visibilities) | registered
    )


def visible_sessions(audience: Audience) -> Select:
    """select(Session) of the sessions `audience` may see; callers narrow it further."""
    return select(Session).join(Format, Session.format_id == Format.id).where(visible(audience))


_WITH_FORMAT_AND_HOST = (joinedload(Session.format), joinedload(Session.host_organisation))


def visible_ids(audience: Audience, session_ids: list[int]) -> set[int]:
    """Which of these sessions `audience` may see."""
    if not session_ids:
        return set()
    stmt = (
        select(Session.id)
        .join(Format, Session.format_id == Format.id)
        .where(visible(audience), Session.id.in_(session_ids))
    )
    return set(db.session.execute(stmt).scalars())


def upcoming_sessions(
    *,
    now: datetime,
    viewer: User | None = None,
    format: Format | None = None,
    host: Organisation | None = None,
) -> list[Session]:
    """Published sessions the viewer may see that have not ended, soonest first."""
    stmt = (
        visible_sessions(audience_of(viewer))
        .where(Session.status == SessionStatus.PUBLISHED, Session.ends_at > now)
        .options(*_WITH_FORMAT_AND_HOST)
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
    """A format whose page the viewer may open (its sessions are listed by the rule)."""
    return db.session.execute(
        select(Format).where(
            Format.slug == slug, Format.visibility.in_(audience_of(viewer).visibilities)
        )
    ).scalar_one_or_none()


def get_organisation(slug: str) -> Organisation | None:
    return db.session.execute(
        select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()


def get_visible_session(session_id: int, viewer: User | None = None) -> Session | None:
    """A session the viewer may open: published or cancelled, never a draft."""
    return db.session.execute(
        visible_sessions(audience_of(viewer))
        .where(Session.id == session_id)
        .options(*_WITH_FORMAT_AND_HOST)
    ).scalar_one_or_none()


def followable_formats(viewer: User) -> list[Format]:
    """Formats an account holder may follow: those they can see."""
    return list(
        db.session.execute(
            select(Format)
            .where(Format.visibility.in_(audience_of(viewer).visibilities))
            .order_by(Format.title)
        ).scalars()
    )
