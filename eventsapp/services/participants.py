"""Participant lists for organisers: search, the check-in list, the questions sent ahead,
and the CSV export for Excel and LibreOffice."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import or_, select

from eventsapp.database import db
from eventsapp.models import ACTIVE, Registration, RegistrationStatus, Session
from eventsapp.services.registrations import waitlist

STATUS_ORDER = {
    RegistrationStatus.CONFIRMED: 0,
    RegistrationStatus.PENDING: 1,
    RegistrationStatus.WAITLISTED: 2,
    RegistrationStatus.CANCELLED: 3,
    RegistrationStatus.REJECTED: 4,
}


def list_registrations(
    session: Session, *, query: str = "", status: str | None = None
) -> list[Registration]:
    """A session's registrations, seat holders first, waitlist in its order."""
    stmt = select(Registration).where(Registration.session_id == session.id)
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Registration.name.ilike(pattern, escape="\\"),
                Registration.email.ilike(pattern, escape="\\"),
                Registration.organisation_name.ilike(pattern, escape="\\"),
            )
        )
    if status:
        stmt = stmt.where(Registration.status == status)
    rows = list(db.session.execute(stmt).scalars())
    # The waitlist's order is needed only where waiting people are listed (not at the door).
    waiting = any(r.status == RegistrationStatus.WAITLISTED for r in rows)
    line = {r.id: i for i, r in enumerate(waitlist(session))} if waiting else {}
    return sorted(
        rows,
        key=lambda r: (STATUS_ORDER[r.status], line.get(r.id, 0), r.created_at, r.id),
    )


@dataclass(frozen=True)
class Question:
    text: str
    asker: str | None  # the name, only where the person said it may be given


def questions(session: Session) -> list[Question]:
    """The questions and topics people registered for this date sent ahead.

    In the order of their text, not of registration, so the list cannot be laid beside the
    registrations to tell who asked what; a name only where its owner allowed it."""
    rows = db.session.execute(
        select(Registration.question, Registration.question_named, Registration.name).where(
            Registration.session_id == session.id,
            Registration.status.in_(ACTIVE),
            Registration.question != "",
        )
    ).all()
    found = [Question(text, name if named else None) for text, named, name in rows]
    return sorted(found, key=lambda q: (q.text.casefold(), q.text, q.asker or ""))


@dataclass(frozen=True)
class Arrival:
    """A line of the check-in list: the registration and, where another confirmed person
    has the same name, what tells them apart (organisation, end of the mailbox name)."""

    registration: Registration
    namesake_hint: str = ""


def checkin_list(session: Session) -> list[Arrival]:
    """The people with a seat, in alphabetical order as a door list is read."""
    people = sorted(
        list_registrations(session, status=RegistrationStatus.CONFIRMED),
        key=lambda r: (unicodedata.normalize("NFKD", r.name).casefold(), r.id),
    )
    names = Counter(r.name.casefold() for r in people)
    return [Arrival(r, _namesake_hint(r) if names[r.name.casefold()] > 1 else "") for r in people]


def arrivals_matching(arrivals: list[Arrival], query: str) -> list[Arrival]:
    """Those whose name, address or organisation contains `query` (any case)."""
    wanted = query.casefold()

    def matches(registration: Registration) -> bool:
        texts = (registration.name, registration.email, registration.organisation_name)
        return any(wanted in (text or "").casefold() for text in texts)

    return [a for a in arrivals if matches(a.registration)]


def _namesake_hint(registration: Registration) -> str:
    mailbox = (registration.email or "").partition("@")[0] if registration.has_address else ""
    parts = [registration.organisation_name, f"…{mailbox[-3:]}@" if mailbox else ""]
    return " · ".join(part for part in parts if part)


def spreadsheet_cell(value: object) -> str:
    """Text as a spreadsheet shows it, never as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


CSV_COLUMNS = ("Name", "E-Mail", "Organisation", "Status", "Angemeldet am", "Anwesend")
STATUS_LABELS = {
    RegistrationStatus.CONFIRMED: "bestätigt",
    RegistrationStatus.PENDING: "wartet auf Bestätigung",
    RegistrationStatus.WAITLISTED: "Warteliste",
    RegistrationStatus.CANCELLED: "storniert",
    RegistrationStatus.REJECTED: "abgelehnt",
}


def registrations_csv(session: Session) -> bytes:
    """UTF-8 with BOM and semicolons: opens correctly by double-click in German Excel
    and in LibreOffice, umlauts and Arabic script included."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for registration in list_registrations(session):
        created = registration.created_at.astimezone(session.tz)
        writer.writerow(
            [
                spreadsheet_cell(registration.name),
                spreadsheet_cell(registration.email),
                spreadsheet_cell(registration.organisation_name),
                STATUS_LABELS[registration.status],
                created.strftime("%d.%m.%Y %H:%M"),
                "ja" if registration.attended else "",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
