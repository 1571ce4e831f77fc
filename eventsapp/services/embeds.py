"""The dates widget partner websites embed (/embed/...): which sites may frame it, and the
next dates it lists, through the one visibility rule for anonymous visitors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from eventsapp.database import db
from eventsapp.models import Format, Organisation, OrganisationKind, Session
from eventsapp.services import sessions as listing

MOST_DATES = 20


def organisation_origins(organisation: Organisation) -> list[str]:
    """An organisation's widget may be framed by the sites listed for that organisation."""
    return organisation.embed_origin_list


def format_origins(format: Format) -> list[str]:
    """A format's widget may be framed by the sites of its host and of every partner
    organisation: partners spread the programme's formats on their own websites."""
    organisations = db.session.execute(
        select(Organisation).where(
            (Organisation.id == format.host_organisation_id)
            | (Organisation.kind == OrganisationKind.PARTNER)
        )
    ).scalars()
    origins: list[str] = []
    for organisation in organisations:
        origins += [o for o in organisation.embed_origin_list if o not in origins]
    return origins


def next_dates(
    *,
    now: datetime,
    limit: int,
    format: Format | None = None,
    host: Organisation | None = None,
) -> list[Session]:
    """The next public dates (a visitor of another site is anonymous to us)."""
    sessions = listing.upcoming_sessions(now=now, viewer=None, format=format, host=host)
    return sessions[: max(1, min(limit, MOST_DATES))]
