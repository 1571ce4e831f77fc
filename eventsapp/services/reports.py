"""What the dialogue dates achieved: participation and feedback figures, grouped.

Every figure is computed from whole sessions that took place (or were called off) in a
period, then summed by the group asked for: session, format, hosting organisation, partner
organisation, quarter or year. A group is keyed by the session's local start.

Small numbers identify people, so every figure built from fewer than `THRESHOLD` responses
(feedback) or `THRESHOLD` attendees (a partner organisation's participation) is withheld:
`Masked` stands in for it, and pages, CSV, PDF and the API print it as "fewer than 5".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from eventsapp.database import db
from eventsapp.feedback_items import DONT_KNOW, ITEMS, STEPS
from eventsapp.models import (
    SEAT_HOLDING,
    Contingent,
    FeedbackResponse,
    Organisation,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
    User,
)
from eventsapp.services import overview
from eventsapp.services.feedback import THRESHOLD

FIRST_YEAR = 2024  # the first year with reports


def year_or_current(value: str | None, *, now: datetime) -> int:
    """The year a page's address asks for; anything else, or a year without reports,
    is the current one (pages fall back; the API and the CLI refuse instead)."""
    try:
        year = int(value or "")
    except ValueError:
        return now.year
    return year if FIRST_YEAR <= year <= now.year else now.year


def format_scope(user: User) -> list[int] | None:
    """The formats whose figures `user` reads: None (all) for admins, else the formats
    their organisation hosts."""
    return None if user.is_admin else [f.id for f in overview.managed_formats(user)]


class Grouping(StrEnum):
    SESSION = "session"
    FORMAT = "format"
    HOST = "host"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class Masked:
    """A figure withheld because it rests on fewer than `THRESHOLD` people."""

    below: int = THRESHOLD

    def __str__(self) -> str:
        return f"<{self.below}"


@dataclass
class Participation:
    """Who came to the dates of a group, counted from the registrations' final state."""

    held: int = 0  # dates that took place
    cancelled: int = 0  # dates called off
    interpreted: int = 0  # held dates with interpreting
    seats: int = 0  # seats offered at the held dates
    registrations: int = 0  # every registration of a held date, whatever became of it
    confirmed: int = 0  # confirmed when the date took place
    waiting: int = 0  # still on the waitlist when it took place: wanted a seat, got none
    attended: int = 0  # checked in
    walk_ins: int = 0  # of those, came without a registration (added at the door)
    checked: int = 0  # confirmed at dates where check-in was used: the base of no-shows
    attended_where_checked: int = 0  # of those, checked in
    contingent_seats: int = 0  # kept for partners at held dates
    contingent_used: int = 0  # of those, taken by the partners' people
    contingent_released: int = 0  # left unused and given to the public at the release
    languages: Counter = field(default_factory=Counter)  # mail language of the confirmed

    @property
    def no_shows(self) -> int:
        return self.checked - self.attended_where_checked

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.checked if self.checked else None

    def add(self, other: Participation) -> None:
        for name in (f.name for f in fields(self) if f.name != "languages"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.languages.update(other.languages)


@dataclass
class ItemFigures:
    """One question's answers in a group: how many chose each step, and the mean of the
    steps (1–4; "don't know" and left-out answers are not in it)."""

    key: str
    counts: dict[int, int]  # step (and DONT_KNOW) -> number of answers
    responses: int  # responses in the group, whether or not they answered this item

    @property
    def answered(self) -> int:
        return sum(self.counts[step] for step in STEPS)

    @property
    def mean(self) -> float | None:
        if not self.answered:
            return None
        return sum(step * self.counts[step] for step in STEPS) / self.answered


@dataclass
class Group:
    key: tuple
    label: str
    sessions: list[Session]
    participation: Participation
    responses: int = 0
    items: dict[str, ItemFigures] = field(default_factory=dict)

    def shown(self, value: object) -> object:
        """A feedback figure of this group, or Masked below the threshold."""
        return value if self.responses >= THRESHOLD else Masked()


def sessions_in(
    start: datetime, end: datetime, *, format_ids: list[int] | None = None
) -> list[Session]:
    """Published and called-off dates with a start in [start, end); of the formats
    `format_ids` only, when given (an organiser's own)."""
    stmt = select(Session).where(
        Session.starts_at >= start,
        Session.starts_at < end,
        Session.status.in_((SessionStatus.PUBLISHED, SessionStatus.CANCELLED)),
    )
    if format_ids is not None:
        stmt = stmt.where(Session.format_id.in_(format_ids))
    stmt = stmt.options(joinedload(Session.format), joinedload(Session.host_organisation))
    return list(db.session.scalars(stmt.order_by(Session.starts_at)))


def participation(sessions: Iterable[Session], *, now: datetime) -> dict[int, Participation]:
    """The participation figures of each session (by id), from four grouped queries."""
    sessions = list(sessions)
    ids = [s.id for s in sessions]
    figures = {s.id: Participation() for s in sessions}
    held = set()
    for session in sessions:
        one = figures[session.id]
        if session.status == SessionStatus.CANCELLED:
            one.cancelled = 1
        elif session.ends_at <= now:
            held.add(session.id)
            one.held = 1
            one.seats = session.capacity
            one.interpreted = int(bool(session.interpreting))
    rows = db.session.execute(
        select(
            Registration.session_id,
            Registration.status,
            Registration.attended,
            Registration.language,
            Registration.walk_in,
            func.count(),
        )
        .where(Registration.session_id.in_(ids))
        .group_by(
            Registration.session_id,
            Registration.status,
            Registration.attended,
            Registration.language,
            Registration.walk_in,
        )
    ).all()
    check_in_used = {row.session_id for row in rows if row.attended is not None}
    for session_id, status, attended, language, walk_in, count in rows:
        if session_id not in held:
            continue
        one = figures[session_id]
        one.registrations += count
        if status == RegistrationStatus.CONFIRMED:
            one.confirmed += count
            one.languages[language] += count
            if session_id in check_in_used:
                one.checked += count
                if attended:
                    one.attended_where_checked += count
        elif status == RegistrationStatus.WAITLISTED:
            one.waiting += count
        if attended:
            one.attended += count
            if walk_in:
                one.walk_ins += count
    for contingent, taken in _contingent_use(held):
        one = figures[contingent.session_id]
        one.contingent_seats += contingent.seats
        one.contingent_used += taken
        if contingent.released_handled_at is not None or contingent.release_at <= now:
            one.contingent_released += contingent.seats - taken
    return figures


def _contingent_use(held: Iterable[int]) -> list[tuple[Contingent, int]]:
    """The contingents of the dates `held`, each with the seats its partner's people took
    (held at the end: confirmed or awaiting approval), never more than it kept."""
    held = list(held)
    used = dict(
        db.session.execute(
            select(Registration.contingent_id, func.count())
            .where(
                Registration.session_id.in_(held),
                Registration.contingent_id.is_not(None),
                Registration.status.in_(SEAT_HOLDING),
            )
            .group_by(Registration.contingent_id)
        ).all()
    )
    contingents = db.session.scalars(select(Contingent).where(Contingent.session_id.in_(held)))
    return [(c, min(used.get(c.id, 0), c.seats)) for c in contingents]


def _answers(session_ids: list[int]) -> dict[int, dict[str, Counter]]:
    """For each session: per item, how many gave each answer; and `None` for the count of
    responses."""
    found: dict[int, dict] = defaultdict(lambda: defaultdict(Counter))
    for item in ITEMS:
        column = getattr(FeedbackResponse, item.key)
        for session_id, value, count in db.session.execute(
            select(FeedbackResponse.session_id, column, func.count())
            .where(FeedbackResponse.session_id.in_(session_ids))
            .group_by(FeedbackResponse.session_id, column)
        ):
            found[session_id][item.key][value] += count
    return found


def _group_of(session: Session, grouping: Grouping) -> tuple[tuple, str]:
    """The key a session is grouped under (sorting the groups) and the group's label."""
    local = session.local_start
    if grouping == Grouping.SESSION:
        return (session.starts_at, session.id), f"{session.format.title}, {local:%d.%m.%Y}"
    if grouping == Grouping.FORMAT:
        return (session.format.title, session.format_id), session.format.title
    if grouping == Grouping.HOST:
        host = session.host_organisation
        return (host.name, host.id), host.name
    quarter = (local.month - 1) // 3 + 1
    if grouping == Grouping.QUARTER:
        return (local.year, quarter), f"{local.year} Q{quarter}"
    return (local.year,), str(local.year)


@dataclass
class Figures:
    """Each session's participation and answers, counted once and then grouped as often
    as a page needs (its tables and charts)."""

    sessions: list[Session]
    participation: dict[int, Participation]
    answers: dict[int, dict[str, Counter]]


def figures_of(sessions: list[Session], *, now: datetime) -> Figures:
    return Figures(sessions, participation(sessions, now=now), _answers([s.id for s in sessions]))


def grouped(figures: Figures, grouping: Grouping) -> list[Group]:
    """The figures by `grouping`, groups in their natural order."""
    groups: dict[tuple, Group] = {}
    for session in figures.sessions:
        key, label = _group_of(session, grouping)
        group = groups.setdefault(key, Group(key, label, [], Participation()))
        group.sessions.append(session)
        group.participation.add(figures.participation[session.id])
        counted = figures.answers.get(session.id, {})
        # Every response has a value (maybe None) for the first item.
        group.responses += sum(counted.get(ITEMS[0].key, Counter()).values())
        for item in ITEMS:
            item_figures = group.items.setdefault(
                item.key, ItemFigures(item.key, dict.fromkeys((*STEPS, DONT_KNOW), 0), 0)
            )
            for value, count in counted.get(item.key, Counter()).items():
                if value is not None:
                    item_figures.counts[value] += count
    for group in groups.values():
        for item_figures in group.items.values():
            item_figures.responses = group.responses
    return [groups[key] for key in sorted(groups)]


def report(sessions: list[Session], grouping: Grouping, *, now: datetime) -> list[Group]:
    """The figures of `sessions` by `grouping`."""
    return grouped(figures_of(sessions, now=now), grouping)


@dataclass
class PartnerFigures:
    """A partner organisation's people at the held dates of a period: registrations made by
    or for its members, and the seats kept for it."""

    registrations: int = 0
    confirmed: int = 0
    attended: int = 0
    contingent_seats: int = 0
    contingent_used: int = 0

    def shown(self, value: object) -> object:
        """A figure of this partner, or Masked when fewer than THRESHOLD of its people came:
        with two, everyone at the host knows who they were."""
        return value if self.attended >= THRESHOLD else Masked()


def partners(sessions: list[Session], *, now: datetime) -> dict[int, PartnerFigures]:
    """Participation per partner organisation (by id) at the held dates among `sessions`."""
    held = [s.id for s in sessions if s.status == SessionStatus.PUBLISHED and s.ends_at <= now]
    figures: dict[int, PartnerFigures] = defaultdict(PartnerFigures)
    for organisation_id, status, attended, count in db.session.execute(
        select(
            Registration.organisation_id, Registration.status, Registration.attended, func.count()
        )
        .where(Registration.session_id.in_(held), Registration.organisation_id.is_not(None))
        .group_by(Registration.organisation_id, Registration.status, Registration.attended)
    ):
        one = figures[organisation_id]
        one.registrations += count
        if status == RegistrationStatus.CONFIRMED:
            one.confirmed += count
        if attended:
            one.attended += count
    for contingent, taken in _contingent_use(held):
        one = figures[contingent.organisation_id]
        one.contingent_seats += contingent.seats
        one.contingent_used += taken
    return dict(figures)


@dataclass
class YearReport:
    """A year's report as the page, the PDF, the API and the CLI show it: the groups asked
    for, the year's quarters (for the charts and the trend), and the whole year."""

    year: int
    grouping: Grouping
    groups: list[Group]
    quarters: list[Group]
    total: Group | None  # None: no dates in the year
    partners: list[tuple[Organisation, PartnerFigures]] = field(default_factory=list)


def year_report(
    year: int,
    grouping: Grouping,
    *,
    zone: str,
    now: datetime,
    format_ids: list[int] | None = None,
) -> YearReport:
    """The report of the dates starting in `year` (local time in `zone`): of the formats
    `format_ids` only, when given."""
    start = datetime(year, 1, 1, tzinfo=ZoneInfo(zone))
    sessions = sessions_in(start, start.replace(year=year + 1), format_ids=format_ids)
    figures = figures_of(sessions, now=now)
    total = grouped(figures, Grouping.YEAR)
    per_partner = partners(sessions, now=now)
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.id.in_(list(per_partner)))
    )
    return YearReport(
        year,
        grouping,
        grouped(figures, grouping),
        grouped(figures, Grouping.QUARTER),
        total[0] if total else None,
        sorted(((o, per_partner[o.id]) for o in organisations), key=lambda pair: pair[0].name),
    )


@dataclass
class PartnerReport:
    """What a partner organisation's members see: their own people's figures per quarter
    and for the year (withheld below THRESHOLD attendees), and the programme's year (for
    the trust trend and the released topics)."""

    quarters: list[PartnerFigures]  # Q1..Q4
    total: PartnerFigures
    programme: YearReport


def partner_report(organisation_id: int, year: int, *, zone: str, now: datetime) -> PartnerReport:
    programme = year_report(year, Grouping.QUARTER, zone=zone, now=now)
    sessions = [s for group in programme.groups for s in group.sessions]

    def of(chosen: list[Session]) -> PartnerFigures:
        return partners(chosen, now=now).get(organisation_id, PartnerFigures())

    by_quarter: dict[int, list[Session]] = defaultdict(list)
    for session in sessions:
        by_quarter[(session.local_start.month - 1) // 3 + 1].append(session)
    return PartnerReport(
        [of(by_quarter[quarter]) for quarter in (1, 2, 3, 4)], of(sessions), programme
    )
