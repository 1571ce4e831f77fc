"""Small builders for test data. Each adds to the session and flushes; the caller commits."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import insert

from eventsapp.database import db, utcnow
from eventsapp.models import (
    Format,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    OutboxStatus,
    Role,
    Session,
    SessionStatus,
    User,
    Visibility,
)
from eventsapp.services.registrations import Applicant

_counter = itertools.count(1)


def make_organisation(kind: OrganisationKind = OrganisationKind.HOST, **values) -> Organisation:
    n = next(_counter)
    organisation = Organisation(
        slug=values.pop("slug", f"org-{n}"),
        name=values.pop("name", f"Organisation {n}"),
        kind=kind,
        contact_email=values.pop("contact_email", f"kontakt@org-{n}.example"),
        **values,
    )
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_format(host: Organisation | None = None, **values) -> Format:
    n = next(_counter)
    format = Format(
        slug=values.pop("slug", f"format-{n}"),
        title=values.pop("title", f"Format {n}"),
        host_organisation=host or make_organisation(),
        visibility=values.pop("visibility", Visibility.PUBLIC),
        capacity=values.pop("capacity", 20),
        **values,
    )
    db.session.add(format)
    db.session.flush()
    return format


def make_session(
    format: Format | None = None,
    *,
    capacity: int = 10,
    starts_at: datetime | None = None,
    status: SessionStatus = SessionStatus.PUBLISHED,
    **values,
) -> Session:
    format = format or make_format()
    starts_at = starts_at or utcnow() + timedelta(days=14)
    session = Session(
        format=format,
        starts_at=starts_at,
        ends_at=values.pop("ends_at", starts_at + timedelta(hours=2)),
        venue_name=values.pop("venue_name", "Polizeipräsidium Dortmund"),
        venue_address=values.pop("venue_address", "Markgrafenstraße 102, 44139 Dortmund"),
        host_organisation=values.pop("host_organisation", format.host_organisation),
        capacity=capacity,
        status=status,
        **values,
    )
    db.session.add(session)
    db.session.flush()
    return session


def applicant(n: int | str = 1, **values) -> Applicant:
    return Applicant(
        name=values.pop("name", f"Person {n}"),
        email=values.pop("email", f"person{n}@example.org"),
        **values,
    )


PASSWORD = "correct horse battery staple"


def make_user(
    role: Role = Role.ORGANISER, organisation: Organisation | None = None, **values
) -> User:
    from eventsapp.services.accounts import create_user

    n = next(_counter)
    if organisation is None and role != Role.ADMIN:
        kind = OrganisationKind.PARTNER if role == Role.PARTNER else OrganisationKind.HOST
        organisation = make_organisation(kind)
    return create_user(
        email=values.pop("email", f"user{n}@example.org"),
        name=values.pop("name", f"User {n}"),
        role=role,
        organisation=organisation,
        password=values.pop("password", PASSWORD),
        now=utcnow(),
    )


def queue_plain_mail(count: int, *, prefix: str = "person") -> set[str]:
    """`count` due mails, written directly (rendering is not what delivery tests are
    about); returns their Message-IDs. The caller commits."""
    now = utcnow()
    rows = [
        {
            "recipient": f"{prefix}{n}@example.org",
            "language": "de",
            "subject": "Neue Termine",
            "body_text": f"Hallo {n}",
            "body_html": None,
            "dedupe_key": f"bulk:{prefix}:{n}",
            "message_id": f"<bulk-{prefix}-{n}@eventsapp.test>",
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "extra_headers": "",
            "created_at": now,
        }
        for n in range(count)
    ]
    db.session.execute(insert(OutboxMessage), rows)
    return {row["message_id"] for row in rows}
