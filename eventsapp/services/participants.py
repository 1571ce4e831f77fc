"""Participant lists for organisers: search, and the CSV export for Excel and LibreOffice."""

from __future__ import annotations

import csv
import io

from sqlalchemy import or_, select

from eventsapp.database import db
from eventsapp.models import Registration, RegistrationStatus, Session
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
    line = {r.id: i for i, r in enumerate(waitlist(session))}
    return sorted(
        rows,
        key=lambda r: (STATUS_ORDER[r.status], line.get(r.id, 0), r.created_at, r.id),
    )


def _cell(value: object) -> str:
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
                _cell(registration.name),
                _cell(registration.email),
                _cell(registration.organisation_name),
                STATUS_LABELS[registration.status],
                created.strftime("%d.%m.%Y %H:%M"),
                "ja" if registration.attended else "",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
