"""Demo data: Polizei Dortmund, its twelve partners and both dialogue formats.

Everything is made the way the app makes it: formats, their dates, registrations,
contingents and followers go through the same services as the organiser pages and the
public forms, so the demo shows only states that the rules allow. Addresses and contact
mailboxes are illustrative (mail goes to the reserved `.example` domains); the organisations
are the real first users of the platform.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import cycle

from sqlalchemy import delete, func, select

from eventsapp.database import db
from eventsapp.emails import normalise_email
from eventsapp.models import (
    Format,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    Registration,
    Role,
    Session,
    Subscription,
    User,
    Visibility,
)
from eventsapp.services import (
    accounts,
    contingents,
    demo_history,
    registrations,
    scheduling,
    subscriptions,
)
from eventsapp.services.demo_programme import (
    FORMATS,
    HOST,
    PARTNERS,
    POLICE_VISIT_PRACTICAL,
    POLICE_VISIT_PRACTICAL_TRANSLATIONS,
)
from eventsapp.services.formats import FormatValues, create_format, slugify
from eventsapp.services.recurrence import RecurrenceSpec
from eventsapp.services.registrations import Applicant

TIMEZONE = "Europe/Berlin"

# The demo accounts; `make run` prints their passwords once, when they are created.
ADMIN = "admin@polizei-dortmund.example"
ORGANISER = "planung@polizei-dortmund.example"
MEMBER = "mitglied@vmdo.example"
DEMO_ACCOUNTS = [
    (ADMIN, "Administration Dialog", Role.ADMIN, "polizei-dortmund"),
    (ORGANISER, "Kim Organisator", Role.ORGANISER, "polizei-dortmund"),
    (MEMBER, "Deniz Partner", Role.PARTNER, "vmdo"),
]

# Residents who follow both formats by email: (address, language, followed the mailed link).
SUBSCRIBERS = [("elif.sahin@example.org", "tr", True), ("paul.hoffmann@example.org", "de", False)]

# Residents who sign up for the first dates, each as <name>.<number>@example.org.
DEMO_NAMES = (  # noqa: SIM905 - a list literal would take a line per name
    "Ayşe Demir, Jonas Becker, Fatima Al-Hassan, Olena Kovalenko, Mehmet Yılmaz, "
    "Claire Dubois, Samuel Nkemelu, Lea Schneider, Hamid Rahimi, Marta Nowak, Yusuf Kaya, "
    "Amina Diallo, Thomas Wagner, Nour Haddad, Serhiy Bondar, Elif Şahin, Paul Hoffmann, "
    "Mariam Tchatchoua, Ali Osman, Sofia Romano"
).split(", ")


def load_demo_data(*, now: datetime, months: int = 6) -> str:
    """Create what is missing of the demo programme; never touch what exists.

    A format that exists already is skipped with its dates and people, so a second run
    changes nothing. Returns a summary for the terminal, with the passwords of accounts
    created now (they are stored only as hashes, so this is the one time they can be shown).
    """
    last_mail = db.session.execute(select(func.max(OutboxMessage.id))).scalar_one() or 0
    host, partners = _organisations()
    new_accounts = _demo_accounts(now)
    organiser, member = (accounts.find_user_by_email(email) for email in (ORGANISER, MEMBER))
    until = (now + timedelta(days=round(months * 30.5))).date()
    existing = set(db.session.execute(select(Format.slug)).scalars())
    new_sessions = 0
    for spec in FORMATS:
        if slugify(spec["title"]) in existing:  # the slug `create_format` would give it
            continue
        format = _create_format(spec, host, now=now)
        _followers(format, [organiser, member], now=now)
        venues = cycle([host] if spec["at_host"] else partners.values())
        held = demo_history.past_dates(
            format,
            spec,
            venues,
            lambda session, count, when: _sign_up(session, count, now=when, offset=11),
            now=now,
        )
        new_sessions += len(held)
        sessions = _plan_sessions(format, spec, venues, until=until, now=now)
        new_sessions += len(sessions)
        # The first dates have people in them already, so that the demo shows every state.
        if spec["approval_required"] and len(sessions) >= 2:
            _awaiting_approval(sessions[0], partners, member, now=now)
            _cancelled(sessions[1], now=now)
        elif sessions:
            _full_with_waitlist(sessions[0], now=now)
    _forget_demo_mail(after_id=last_mail, now=now)
    lines = [
        f"demo data: {1 + len(partners)} organisations, {len(FORMATS)} formats, "
        f"{new_sessions} new sessions"
    ]
    lines += [
        f"  {role} account: {email}  password: {password}" for role, email, password in new_accounts
    ]
    return "\n".join(lines)


def _organisations() -> tuple[Organisation, dict[str, Organisation]]:
    """The host and its partners (by slug), created where missing as the admin pages do."""
    existing = {o.slug: o for o in db.session.execute(select(Organisation)).scalars()}
    host = existing.get(HOST["slug"]) or Organisation(**HOST)
    partners = {
        slug: existing.get(slug)
        or Organisation(
            slug=slug,
            name=name,
            kind=OrganisationKind.PARTNER,
            description=description,
            contact_email=f"kontakt@{slug}.example",
            venue_name=name,
            venue_address=address,
        )
        for slug, name, description, address in PARTNERS
    }
    db.session.add_all([host, *partners.values()])
    db.session.flush()
    return host, partners


def _demo_accounts(now: datetime) -> list[tuple[str, str, str]]:
    """Create the demo accounts that are missing; returns (role, email, password) of new ones."""
    created = []
    for email, name, role, slug in DEMO_ACCOUNTS:
        if accounts.find_user_by_email(email) is not None:
            continue
        organisation = db.session.execute(
            select(Organisation).where(Organisation.slug == slug)
        ).scalar_one()
        password = secrets.token_urlsafe(12)
        accounts.create_user(
            email=email, name=name, role=role, organisation=organisation, password=password, now=now
        )
        created.append((role.value, email, password))
    return created


def _create_format(spec: dict, host: Organisation, *, now: datetime) -> Format:
    values = FormatValues(
        title=spec["title"],
        summary=spec["summary"],
        description=spec["description"],
        host_organisation=host,
        venue_name=host.venue_name if spec["at_host"] else None,
        venue_address=host.venue_address if spec["at_host"] else None,
        duration_minutes=spec["duration_minutes"],
        capacity=spec["capacity"],
        visibility=Visibility.PUBLIC,
        approval_required=spec["approval_required"],
        reminder_minutes=[48 * 60, 3 * 60],
        announce_to_all_partners=True,
        announcement_partners=[],
        practical=POLICE_VISIT_PRACTICAL if spec["at_host"] else {},
    )
    format = create_format(values, timezone=TIMEZONE, now=now)
    format.translations = {  # as the translations page stores them
        language: {
            "title": title,
            "summary": spec["summaries"][language],
            **(POLICE_VISIT_PRACTICAL_TRANSLATIONS.get(language, {}) if spec["at_host"] else {}),
        }
        for language, title in spec["titles"].items()
    }
    return format


def _followers(format: Format, users: list[User], *, now: datetime) -> None:
    """Account holders follow from their account page; residents confirm a mailed link."""
    for user in users:
        subscriptions.follow_formats(user, [format], {format.id}, now=now)
    for email, language, confirmed in SUBSCRIBERS:
        subscriptions.request_subscription(format, email, language, now=now)
        if confirmed:
            subscription = db.session.execute(
                select(Subscription).where(
                    Subscription.format_id == format.id, Subscription.email == email
                )
            ).scalar_one()
            subscriptions.confirm(subscription, now=now)


def _plan_sessions(
    format: Format, spec: dict, venues: Iterator[Organisation], *, until: date, now: datetime
) -> list[Session]:
    """Plan as an organiser does: a monthly rule up to `until`, drafts from it, the holiday
    dates skipped, each draft's venue and languages set, then all published at once (which
    announces them to the partners and followers)."""
    rule = RecurrenceSpec(
        kind="monthly",
        start_date=now.date(),
        start_time=spec["start_time"],
        weekday=spec["weekday"],
        nth=spec["nth"],
        until=until,
    )
    scheduling.apply_recurrence(format, rule)
    sessions = [
        draft
        for draft in scheduling.generate_sessions(format, now=now)
        if demo_history.place(draft, venues, spec, now=now)
    ]
    if sessions:
        scheduling.publish_sessions(format, sessions, now=now)
    return sessions


def _sign_up(session: Session, count: int, *, now: datetime, offset: int) -> list[Registration]:
    """`count` residents register as the public form does: a seat while one is free to them,
    else the waitlist (and with approval, a seat that waits for the organiser)."""
    people = []
    for number in range(count):
        name = DEMO_NAMES[(number + offset) % len(DEMO_NAMES)]
        local = unicodedata.normalize("NFKD", name.lower().replace(" ", "."))
        email = normalise_email(f"{local.encode('ascii', 'ignore').decode()}.{number}@example.org")
        question, named = DEMO_QUESTIONS[(number + offset) % len(DEMO_QUESTIONS)]
        applicant = Applicant(name=name, email=email, question=question, question_named=named)
        people.append(registrations.register_for_session(session, applicant, now=now))
    return people


# Questions some residents send ahead (most send none); the second says "you may name me".
DEMO_QUESTIONS = [
    ("Wie werde ich Polizistin oder Polizist, auch ohne deutschen Schulabschluss?", False),
    ("", False),
    ("Was passiert, wenn ich eine Anzeige erstatte? Bekomme ich eine Dolmetscherin?", True),
    ("", False),
    ("", False),
    ("Warum werden junge Männer aus unserem Viertel so oft kontrolliert?", False),
    ("", False),
]


def _awaiting_approval(
    session: Session, partners: dict[str, Organisation], member: User, *, now: datetime
) -> None:
    """Nearly full: VMDO and AFRIDO hold seats until three days before, the VMDO member
    has taken one of them, and the last four to register still wait for approval."""
    release_at = session.starts_at - timedelta(days=3)
    for slug, seats in (("vmdo", 3), ("afrido", 2)):
        contingents.set_contingent(
            session, partners[slug], seats=seats, release_at=release_at, now=now
        )
    people = [registrations.register_for_session(session, Applicant.from_user(member), now=now)]
    people += _sign_up(session, 19, now=now, offset=0)
    for registration in people[:-4]:
        registrations.approve_registration(registration, now=now)


def _cancelled(session: Session, *, now: datetime) -> None:
    """Called off after four residents had registered; they are told by mail."""
    _sign_up(session, 4, now=now, offset=3)
    reason = "Die Leitstelle wird an diesem Tag umgebaut. Bitte wählen Sie einen anderen Termin."
    scheduling.cancel_session(session, reason=reason, now=now)


def _full_with_waitlist(session: Session, *, now: datetime) -> None:
    """Three more people than seats; then one cancels and the first in line moves up."""
    people = _sign_up(session, session.capacity + 3, now=now, offset=7)
    registrations.cancel_registration(people[1], now=now)


def _forget_demo_mail(*, after_id: int, now: datetime) -> None:
    """The services queued mail for all of this (announcements, confirmations, a
    cancellation, the past dates' feedback invitations). Its recipients are made up and
    `make run` would write every one to instance/mail/, so the mail queued here is dropped
    again."""
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > after_id))
