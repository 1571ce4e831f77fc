"""Planning a format's dates: generate drafts from its rule, publish, move, cancel, skip."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from eventsapp.database import db
from eventsapp.mail.outbox import queue_about
from eventsapp.models import (
    ACTIVE,
    Format,
    Organisation,
    Publication,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
    User,
)
from eventsapp.services import announcements
from eventsapp.services.ledger import CANCEL, REQUEST
from eventsapp.services.recurrence import (
    MAX_OCCURRENCES,
    RecurrenceError,
    RecurrenceSpec,
    local_to_utc,
)
from eventsapp.services.seats import fill_free_seats, lock_session, seat_ledger


class ScheduleError(RecurrenceError):
    """A planning change the rules do not allow; `message` is for the organiser."""


@dataclass(frozen=True)
class PlannedDate:
    starts_at: datetime  # UTC
    exists: bool  # a session for this occurrence is already there
    clash: str = ""  # the title of another session at the same place and time, if any


def _parse_local_list(text: str) -> list[datetime]:
    return [datetime.fromisoformat(item) for item in text.split(",") if item.strip()]


def _format_local_list(values: list[datetime]) -> str:
    return ",".join(sorted({v.replace(tzinfo=None).isoformat(timespec="minutes") for v in values}))


def apply_recurrence(format: Format, spec: RecurrenceSpec) -> None:
    """Store the schedule form's rule on the format (no sessions are made here)."""
    spec.local_starts()  # refuses rules without an end or with too many dates
    format.rrule = spec.rrule()
    format.series_start = spec.start_date
    format.start_time = spec.start_time
    format.rdates = _format_local_list([datetime.combine(d, spec.start_time) for d in spec.dates])


def planned_local_starts(format: Format, until: date | None = None) -> list[datetime]:
    """The format's dates as naive local wall times: its rule plus explicit dates minus skips."""
    starts: set[datetime] = set(_parse_local_list(format.rdates))
    if format.rrule and format.series_start and format.start_time:
        dtstart = datetime.combine(format.series_start, format.start_time)
        for start in rrulestr(format.rrule, dtstart=dtstart):
            if until and start.date() > until:
                break
            starts.add(start)
            if len(starts) > MAX_OCCURRENCES:
                break
    skipped = set(_parse_local_list(format.exdates))
    result = sorted(s for s in starts if s not in skipped and (not until or s.date() <= until))
    if len(result) > MAX_OCCURRENCES:
        raise ScheduleError(
            _l(
                "Das wären mehr als %(max)d Termine auf einmal. Bitte wählen Sie ein früheres "
                "Ende.",
                max=MAX_OCCURRENCES,
            ),
            field="until",
        )
    return result


def preview_dates(
    format: Format, local_starts: list[datetime], *, now: datetime
) -> list[PlannedDate]:
    """What generating would create: future dates in UTC, marked when a session exists."""
    existing = (
        set(
            db.session.execute(
                select(Session.occurrence_at).where(Session.format_id == format.id)
            ).scalars()
        )
        if format.id
        else set()
    )
    planned = []
    length = timedelta(minutes=format.duration_minutes or 0)
    starts = [local_to_utc(local, format.timezone) for local in local_starts]
    starts = [starts_at for starts_at in starts if starts_at > now]
    others = (
        sessions_at(venue_of(format), starts[0], starts[-1] + length, format_id=format.id)
        if starts
        else []
    )
    for starts_at in starts:
        clash = next(
            (o for o in others if o.starts_at < starts_at + length and o.ends_at > starts_at),
            None,
        )
        planned.append(
            PlannedDate(starts_at, starts_at in existing, clash.format.title if clash else "")
        )
    return planned


def venue_of(format: Format) -> str:
    """Where a new session of the format takes place (as `generate_sessions` sets it)."""
    host = format.host_organisation
    return format.venue_name or host.venue_name or host.name


def sessions_at(
    venue: str, start: datetime, end: datetime, *, format_id: int | None = None
) -> list[Session]:
    """Sessions that are not called off at the place named `venue` (compared without case)
    overlapping `start`–`end`; with `format_id`, of other formats only."""
    stmt = select(Session).where(
        func.lower(Session.venue_name) == venue.lower(),
        Session.status != SessionStatus.CANCELLED,
        Session.starts_at < end,
        Session.ends_at > start,
    )
    if format_id is not None:
        stmt = stmt.where(Session.format_id != format_id)
    return list(db.session.execute(stmt.order_by(Session.starts_at)).scalars())


def clashes(session: Session) -> list[Session]:
    """Other sessions at the same place overlapping this one (a warning, not a rule)."""
    return [
        other
        for other in sessions_at(session.venue_name, session.starts_at, session.ends_at)
        if other.id != session.id
    ]


def generate_sessions(format: Format, *, now: datetime, until: date | None = None) -> list[Session]:
    """Create draft sessions for the format's future dates that have none yet."""
    created = []
    for planned in preview_dates(format, planned_local_starts(format, until), now=now):
        if planned.exists:
            continue
        host = format.host_organisation
        session = Session(
            format=format,
            starts_at=planned.starts_at,
            ends_at=planned.starts_at + timedelta(minutes=format.duration_minutes),
            timezone=format.timezone,
            venue_name=venue_of(format),
            venue_address=format.venue_address or host.venue_address or "",
            host_organisation=host,
            capacity=format.capacity,
            status=SessionStatus.DRAFT,
            occurrence_at=planned.starts_at,
            created_at=now,
            updated_at=now,
        )
        db.session.add(session)
        created.append(session)
    db.session.flush()
    return created


def publish_sessions(
    format: Format, sessions: list[Session], *, now: datetime, by: User | None = None
) -> Publication:
    """Publish drafts of one format together: the "new dates announced" event.

    Queues one digest of the new dates per subscriber and partner contact, in the same
    transaction.
    """
    drafts = [s for s in sessions if s.format_id == format.id and s.status == SessionStatus.DRAFT]
    if not drafts:
        raise ScheduleError(_l("Bitte wählen Sie mindestens einen Entwurf aus."), field="sessions")
    publication = Publication(format=format, published_by=by, created_at=now)
    db.session.add(publication)
    for session in drafts:
        session.status = SessionStatus.PUBLISHED
        session.published_at = now
        session.sequence += 1
        session.updated_at = now
        session.publication = publication
    db.session.flush()
    announcements.announce(publication, now=now)
    return publication


def _active_registrations(session: Session) -> list[Registration]:
    return list(
        db.session.execute(
            select(Registration)
            .where(Registration.session_id == session.id, Registration.status.in_(ACTIVE))
            .order_by(Registration.id)
        ).scalars()
    )


def _before(session: Session) -> dict:
    """Time and place as the change mail will name them under "before" (JSON values)."""
    return {
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "venue_name": session.venue_name,
        "venue_address": session.venue_address,
    }


def _changed(session: Session, now: datetime, before: dict) -> None:
    """Time, place or status changed: calendars must update, registrants are told what it
    was before (`before`, from `_before`) and what it is now."""
    session.sequence += 1
    session.updated_at = now
    if session.status == SessionStatus.PUBLISHED:
        db.session.flush()
        for registration in _active_registrations(session):
            # One mail per change (the sequence number); the confirmed get the new invitation.
            invite = REQUEST if registration.status == RegistrationStatus.CONFIRMED else None
            event = f"session-changed:{session.sequence}"
            queue_about(registration, event, "session_changed", now, invite, context=before)


def reschedule_session(
    session: Session,
    *,
    local_start: datetime,
    duration: timedelta,
    now: datetime,
    following: bool = False,
) -> list[Session]:
    """Move a session to a new local start; with `following`, later ones take the new time.

    "This and following" keeps each later session's own date and gives it the new time of day
    and length, as calendar apps do for a series. Cancelled sessions are left as they are.
    """
    if duration <= timedelta(0):
        raise ScheduleError(_l("Das Ende muss nach dem Beginn liegen."), field="end_time")
    if session.status == SessionStatus.CANCELLED:
        raise ScheduleError(_l("Ein abgesagter Termin kann nicht verschoben werden."))
    targets = [(session, local_start)]
    if following:
        later = db.session.execute(
            select(Session)
            .where(
                Session.format_id == session.format_id,
                Session.starts_at > session.starts_at,
                Session.status != SessionStatus.CANCELLED,
            )
            .order_by(Session.starts_at)
        ).scalars()
        targets += [(s, datetime.combine(s.local_start.date(), local_start.time())) for s in later]
    moves = [(s, local_to_utc(local, s.timezone)) for s, local in targets]  # refuse first
    if moves[0][1] <= now:
        raise ScheduleError(_l("Der neue Beginn liegt in der Vergangenheit."), field="start_date")
    changed = []
    for target, starts_at in moves:
        lock_session(target.id)
        if target.starts_at == starts_at and target.ends_at == starts_at + duration:
            continue
        before = _before(target)
        target.previous_starts_at, target.rescheduled_at = target.starts_at, now
        target.starts_at = starts_at
        target.ends_at = starts_at + duration
        _changed(target, now, before)
        changed.append(target)
    return changed


def change_session_times(
    session: Session,
    *,
    day: date,
    start: time,
    end: time,
    now: datetime,
    following: bool = False,
) -> list[Session]:
    """Give a session the date and wall-clock times of the edit form (see reschedule_session).

    The times are local to the session's zone; its length is measured between the two
    instants, so an evening across the night the clocks change lasts as long as it really
    does. An end the clocks skip is refused under `end_time`, not under the start. Unchanged
    times move nothing and tell nobody.
    """
    local_start = datetime.combine(day, start)
    local_end = datetime.combine(day, end)
    starts_at = local_to_utc(local_start, session.timezone)
    try:
        ends_at = local_to_utc(local_end, session.timezone)
    except RecurrenceError as error:
        field = "end_time" if error.field else None  # a skipped hour, not a day out of range
        raise ScheduleError(error.message, field=field) from error
    current = (session.local_start.replace(tzinfo=None), session.local_end.replace(tzinfo=None))
    if (local_start, local_end) == current:
        return []
    return reschedule_session(
        session, local_start=local_start, duration=ends_at - starts_at, now=now, following=following
    )


@dataclass(frozen=True)
class SessionDetails:
    venue_name: str
    venue_address: str
    host_organisation: Organisation
    capacity: int
    languages: str
    interpreting: str
    note: str
    practical: dict[str, str] = field(default_factory=dict)  # this date's own texts


def update_session_details(session: Session, details: SessionDetails, *, now: datetime) -> None:
    """Change venue, host, capacity, languages and note; a new venue counts as a change."""
    session = lock_session(session.id)
    ledger = seat_ledger(session, now=now)
    if details.capacity < ledger.taken + ledger.reserved:
        raise ScheduleError(
            _l(
                "%(taken)d Plätze sind schon vergeben oder reserviert; weniger geht nicht.",
                taken=ledger.taken + ledger.reserved,
            ),
            field="capacity",
        )
    before = _before(session)
    moved = (details.venue_name, details.venue_address) != (
        session.venue_name,
        session.venue_address,
    )
    session.venue_name = details.venue_name
    session.venue_address = details.venue_address
    session.host_organisation = details.host_organisation
    session.capacity = details.capacity
    session.languages = details.languages
    session.interpreting = details.interpreting
    session.note = details.note
    session.practical = dict(details.practical)
    session.updated_at = now
    if moved:
        _changed(session, now, before)
    if details.capacity > ledger.capacity or ledger.releases_due:
        # More seats, or a contingent whose release time passed before its job ran: the
        # people waiting may move up now, whichever way the capacity went.
        fill_free_seats(session.id, now=now)


def cancel_session(
    session: Session, *, reason: str, now: datetime, reasons: dict[str, str] | None = None
) -> None:
    """Cancel a published session; it stays visible as cancelled and registrants are told,
    each in their language where `reasons` (language: text) has the reason in it."""
    session = lock_session(session.id)
    if session.status != SessionStatus.PUBLISHED:
        raise ScheduleError(_l("Nur veröffentlichte Termine können abgesagt werden."))
    session.status = SessionStatus.CANCELLED
    session.cancelled_at = now
    session.cancel_reason = reason
    translations = {
        language: dict(texts) for language, texts in (session.translations or {}).items()
    }
    for language, text in (reasons or {}).items():
        translations.setdefault(language, {})["cancel_reason"] = text
    session.translations = translations
    session.sequence += 1
    session.updated_at = now
    db.session.flush()
    for registration in _active_registrations(session):
        # Everyone is told; only those it was in the calendar of get the CANCEL.
        invited = registration.status == RegistrationStatus.CONFIRMED
        uninvite = CANCEL if invited else None
        queue_about(registration, "session-cancelled", "session_cancelled", now, uninvite)


def skip_draft(session: Session) -> None:
    """Drop a draft date; generating again will not bring it back."""
    if session.status != SessionStatus.DRAFT:
        raise ScheduleError(
            _l("Nur Entwürfe können übersprungen werden; veröffentlichte Termine bitte absagen.")
        )
    format = session.format
    if session.occurrence_at is not None:
        local = session.occurrence_at.astimezone(ZoneInfo(format.timezone))
        skipped = [*_parse_local_list(format.exdates), local.replace(tzinfo=None)]
        format.exdates = _format_local_list(skipped)
    db.session.delete(session)
    db.session.flush()
