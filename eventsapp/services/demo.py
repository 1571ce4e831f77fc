"""Demo data: Polizei Dortmund, its twelve partners and both dialogue formats.

Addresses and contact mailboxes are illustrative (mail goes to the reserved `.example`
domain); the organisations are the real first users of the platform.
"""

from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime, time, timedelta
from itertools import cycle
from zoneinfo import ZoneInfo

from sqlalchemy import select

from eventsapp.database import db
from eventsapp.models import (
    Contingent,
    Format,
    Organisation,
    OrganisationKind,
    Registration,
    RegistrationStatus,
    Role,
    Session,
    SessionStatus,
    Visibility,
)
from eventsapp.services import accounts
from eventsapp.services.recurrence import expand_occurrences
from eventsapp.services.tokens import REGISTRATION, derive_token, hash_token, new_nonce

TIMEZONE = "Europe/Berlin"

HOST = {
    "slug": "polizei-dortmund",
    "name": "Polizeipräsidium Dortmund",
    "website": "https://dortmund.polizei.nrw",
    "description": "Die Polizei Dortmund ist für die Städte Dortmund und Lünen zuständig.",
    "venue_name": "Polizeipräsidium Dortmund",
    "venue_address": "Markgrafenstraße 102, 44139 Dortmund",
}

PARTNERS = [
    (
        "afrido",
        "AFRIDO c/o Africa Positive e.V.",
        "Netzwerk afrikanischer Vereine in Dortmund.",
        "Hamburger Straße 16, 44135 Dortmund",
    ),
    (
        "dietrich-keuning-haus",
        "Dietrich-Keuning-Haus",
        "Kultur- und Freizeitzentrum in der Nordstadt.",
        "Leopoldstraße 50–58, 44147 Dortmund",
    ),
    (
        "forumjugend",
        "forumJUGEND! e.V.",
        "Jugendarbeit und politische Bildung.",
        "Mallinckrodtstraße 212, 44147 Dortmund",
    ),
    (
        "integrationsrat",
        "Integrationsrat der Stadt Dortmund",
        "Gewählte Vertretung der Dortmunderinnen und Dortmunder mit Einwanderungsgeschichte.",
        "Friedensplatz 1, 44135 Dortmund",
    ),
    (
        "multikulturelles-forum",
        "Multikulturelles Forum e.V.",
        "Bildung, Beratung und Beschäftigung für Menschen mit Einwanderungsgeschichte.",
        "Bornstraße 64, 44145 Dortmund",
    ),
    (
        "planerladen",
        "Planerladen gGmbH",
        "Quartiersarbeit und Antidiskriminierung in der Nordstadt.",
        "Schützenstraße 42, 44147 Dortmund",
    ),
    (
        "projekt-ankommen",
        "Projekt Ankommen e.V.",
        "Begleitung geflüchteter Menschen beim Ankommen in Dortmund.",
        "Münsterstraße 56, 44145 Dortmund",
    ),
    (
        "rat-muslimischer-gemeinden",
        "Rat der muslimischen Gemeinden in Dortmund",
        "Zusammenschluss der Moscheegemeinden in Dortmund.",
        "Kielstraße 24, 44145 Dortmund",
    ),
    (
        "train-of-hope",
        "Train of Hope Dortmund e.V.",
        "Ehrenamtliche Hilfe für Geflüchtete.",
        "Heroldstraße 12, 44145 Dortmund",
    ),
    (
        "unternehmen-bilden-vielfalt",
        "Unternehmen.Bilden.Vielfalt e.V.",
        "Vielfalt in Ausbildung und Arbeitswelt.",
        "Rheinische Straße 173, 44147 Dortmund",
    ),
    (
        "vmdo",
        "Verbund sozial-kultureller Migrantenvereine Dortmund e.V.",
        "Dachverband von Migrantenorganisationen, Träger des Hauses der Vielfalt.",
        "Beuthstraße 21, 44147 Dortmund",
    ),
    (
        "vkii",
        "Verein Kamerunischer Ingenieure und Informatiker e.V.",
        "Netzwerk kamerunischer Fachkräfte in Technik und Informatik.",
        "Burgholzstraße 120, 44145 Dortmund",
    ),
]

FORMATS = [
    {
        "slug": "blick-in-die-polizei",
        "title": "Blick in die Polizei",
        "summary": "Bürgerinnen, Bürger und Mitglieder der Partnerorganisationen "
        "besuchen das Polizeipräsidium.",
        "description": (
            "Wie arbeitet die Polizei in Dortmund? Bei diesem Besuch im Polizeipräsidium "
            "sehen Sie die Leitstelle und die Kriminalwache und sprechen offen mit "
            "Beamtinnen und Beamten – über Ihre Fragen, Erfahrungen und Anliegen.\n\n"
            "Bitte bringen Sie einen Ausweis mit. Der Eingang ist barrierefrei."
        ),
        "translations": {
            "en": {
                "title": "A Look Inside the Police",
                "summary": "Residents and members of "
                "the partner organisations visit police headquarters.",
            },
            "tr": {
                "title": "Polise Bir Bakış",
                "summary": "Vatandaşlar ve ortak kuruluşların "
                "üyeleri emniyet müdürlüğünü ziyaret ediyor.",
            },
            "ar": {
                "title": "نظرة إلى داخل الشرطة",
                "summary": "يزور المواطنون وأعضاء المنظمات الشريكة مقر الشرطة.",
            },
            "fr": {
                "title": "Regard sur la police",
                "summary": "Habitants et membres des "
                "organisations partenaires visitent l’hôtel de police.",
            },
            "uk": {
                "title": "Погляд зсередини на поліцію",
                "summary": "Мешканці та члени "
                "партнерських організацій відвідують управління поліції.",
            },
        },
        "rrule": "FREQ=MONTHLY;BYDAY=2TU",
        "start_time": time(18, 0),
        "duration_minutes": 150,
        "capacity": 25,
        "languages": "de,tr,ar",
        "interpreting": "Dolmetschen ins Türkische und Arabische",
    },
    {
        "slug": "blick-in-die-organisation",
        "title": "Blick in die Organisation",
        "summary": "Polizeibeschäftigte besuchen eine Partnerorganisation – jedes Mal eine andere.",
        "description": (
            "Die Partnerorganisationen laden ein: Beschäftigte der Polizei Dortmund lernen "
            "die Arbeit eines Vereins kennen, hören zu und kommen mit den Menschen vor Ort "
            "ins Gespräch. Mitglieder der Organisation sind herzlich willkommen."
        ),
        "translations": {
            "en": {
                "title": "A Look Inside Our Partners",
                "summary": "Police staff visit a partner organisation – a different one each time.",
            },
            "tr": {
                "title": "Kuruluşlara Bir Bakış",
                "summary": "Polis çalışanları her seferinde "
                "başka bir ortak kuruluşu ziyaret ediyor.",
            },
            "ar": {
                "title": "نظرة إلى داخل المنظمات",
                "summary": "يزور موظفو الشرطة منظمة شريكة، في كل مرة منظمة مختلفة.",
            },
            "fr": {
                "title": "Regard sur les associations",
                "summary": "Des agents de police "
                "rendent visite à une organisation partenaire – chaque fois une autre.",
            },
            "uk": {
                "title": "Погляд зсередини на організації",
                "summary": "Працівники поліції відвідують партнерську організацію – щоразу іншу.",
            },
        },
        "rrule": "FREQ=MONTHLY;BYDAY=-1TH",
        "start_time": time(17, 0),
        "duration_minutes": 120,
        "capacity": 15,
        "languages": "de",
        "interpreting": "",
    },
]

DEMO_NAMES = [
    "Ayşe Demir",
    "Jonas Becker",
    "Fatima Al-Hassan",
    "Olena Kovalenko",
    "Mehmet Yılmaz",
    "Claire Dubois",
    "Samuel Nkemelu",
    "Lea Schneider",
    "Hamid Rahimi",
    "Marta Nowak",
    "Yusuf Kaya",
    "Amina Diallo",
    "Thomas Wagner",
    "Nour Haddad",
    "Serhiy Bondar",
    "Elif Şahin",
    "Paul Hoffmann",
    "Mariam Tchatchoua",
    "Ali Osman",
    "Sofia Romano",
]


def _get_or_create_organisation(slug: str, **values: object) -> tuple[Organisation, bool]:
    organisation = db.session.execute(
        select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if organisation is not None:
        return organisation, False
    organisation = Organisation(slug=slug, **values)
    db.session.add(organisation)
    return organisation, True


def _demo_registrations(session: Session, count: int, now: datetime, offset: int) -> None:
    for index in range(count):
        name = DEMO_NAMES[(index + offset) % len(DEMO_NAMES)]
        local = unicodedata.normalize("NFKD", name.lower().replace(" ", "."))
        local = local.encode("ascii", "ignore").decode()
        seat = index < session.capacity
        nonce = new_nonce()
        db.session.add(
            Registration(
                session=session,
                name=name,
                email=f"{local}.{index}@example.org",
                language="de",
                status=RegistrationStatus.CONFIRMED if seat else RegistrationStatus.WAITLISTED,
                created_at=now - timedelta(days=3, minutes=count - index),
                consented_at=now - timedelta(days=3, minutes=count - index),
                token_nonce=nonce,
                token_hash=hash_token(derive_token(REGISTRATION, nonce)),
            )
        )


def _holidays(moment: datetime) -> bool:
    """Nobody plans a dialogue evening between Christmas and Epiphany."""
    day = (moment.month, moment.day)
    return day >= (12, 22) or day <= (1, 6)


DEMO_ACCOUNTS = [
    ("admin@polizei-dortmund.example", "Administration Dialog", Role.ADMIN, "polizei-dortmund"),
    ("planung@polizei-dortmund.example", "Kim Organisator", Role.ORGANISER, "polizei-dortmund"),
    ("mitglied@vmdo.example", "Deniz Partner", Role.PARTNER, "vmdo"),
]


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


def load_demo_data(*, now: datetime, months: int = 6) -> str:
    """Create what is missing of the demo programme; never touch what exists.

    Returns a summary for the terminal, with the passwords of accounts created now (they
    are stored only as hashes, so this is the one time they can be shown).
    """
    host, _ = _get_or_create_organisation(
        HOST["slug"],
        kind=OrganisationKind.HOST,
        contact_email="dialog@polizei-dortmund.example",
        **{k: v for k, v in HOST.items() if k != "slug"},
    )
    partners = []
    for slug, name, description, address in PARTNERS:
        partner, _ = _get_or_create_organisation(
            slug,
            name=name,
            kind=OrganisationKind.PARTNER,
            description=description,
            contact_email=f"kontakt@{slug}.example",
            venue_name=name,
            venue_address=address,
        )
        partners.append(partner)

    created_sessions = 0
    until = now + timedelta(days=round(months * 30.5))
    for number, spec in enumerate(FORMATS):
        if db.session.execute(select(Format).where(Format.slug == spec["slug"])).first():
            continue
        format = Format(
            slug=spec["slug"],
            title=spec["title"],
            summary=spec["summary"],
            description=spec["description"],
            host_organisation=host,
            venue_name=host.venue_name if number == 0 else None,
            venue_address=host.venue_address if number == 0 else None,
            duration_minutes=spec["duration_minutes"],
            capacity=spec["capacity"],
            rrule=spec["rrule"],
            start_time=spec["start_time"],
            series_start=now.date(),
            timezone=TIMEZONE,
            visibility=Visibility.PUBLIC,
            approval_required=False,
            translations=spec["translations"],
        )
        db.session.add(format)
        hosts = cycle([host] if number == 0 else partners)
        starts = expand_occurrences(
            spec["rrule"],
            start_time=spec["start_time"],
            timezone=TIMEZONE,
            first_day=now.date(),
            until=until,
        )
        format.exdates = ",".join(
            s.astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m-%dT%H:%M")
            for s in starts
            if _holidays(s)
        )
        for index, starts_at in enumerate(s for s in starts if s > now and not _holidays(s)):
            venue_host = next(hosts)
            session = Session(
                format=format,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=spec["duration_minutes"]),
                timezone=TIMEZONE,
                venue_name=venue_host.venue_name,
                venue_address=venue_host.venue_address,
                host_organisation=venue_host,
                capacity=spec["capacity"],
                languages=spec["languages"],
                interpreting=spec["interpreting"],
                status=SessionStatus.PUBLISHED,
                published_at=now,
                sequence=0,
                occurrence_at=starts_at,
                created_at=now,
            )
            db.session.add(session)
            created_sessions += 1
            # The next date of each format already has people in it: one nearly full,
            # one full with a waitlist, so the demo shows both states.
            if index == 0 and number == 0:
                vmdo = next(p for p in partners if p.slug == "vmdo")
                session.contingents.append(
                    Contingent(
                        organisation=vmdo,
                        seats=3,
                        release_at=starts_at - timedelta(days=3),
                        created_at=now,
                    )
                )
            if index == 0:
                _demo_registrations(
                    session,
                    spec["capacity"] - 4 if number == 0 else spec["capacity"] + 3,
                    now,
                    offset=number * 7,
                )
    db.session.flush()
    lines = [
        f"demo data: {1 + len(partners)} organisations, {len(FORMATS)} formats, "
        f"{created_sessions} new sessions"
    ]
    for role, email, password in _demo_accounts(now):
        lines.append(f"  {role} account: {email}  password: {password}")
    return "\n".join(lines)
