"""The demo's past: dates that took place, who came, and what they answered afterwards.

Made like everything else in the demo: the dates from the format's rule through the
scheduling service, registrations through the registration rules, check-in at the door,
feedback invitations by the same job as in production and answers through the feedback
form's service, each at the moment it would have happened. The answers come from a seeded
random generator, so every run of `flask demo-data` gives the same programme.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select

from eventsapp.database import db
from eventsapp.feedback_items import DONT_KNOW, ITEMS
from eventsapp.models import (
    FeedbackInvitation,
    Format,
    Organisation,
    RegistrationStatus,
    Session,
    TextsState,
    TopicStatus,
)
from eventsapp.services import feedback, registrations, scheduling
from eventsapp.services.recurrence import RecurrenceSpec
from eventsapp.services.scheduling import SessionDetails
from eventsapp.tokens import feedback_token

HISTORY_DAYS = 120  # how far back the demo's programme starts
TOPICS = (
    "Wie läuft eine Anzeige ab, und was passiert danach?",
    "Racial Profiling: Wie wird kontrolliert, wer kontrolliert wird?",
    "Polizei als Arbeitgeberin: Wie kann man sich bewerben?",
    "Hilfe bei häuslicher Gewalt, auch auf Arabisch.",
    "Wie erreiche ich die Polizei, wenn ich kaum Deutsch spreche?",
    "Kontrollen am Hauptbahnhof",
)
OTHER = (
    "Danke für die offenen Antworten.",
    "Die Führung durch die Leitstelle war sehr interessant.",
    "Bitte mehr Zeit für Fragen.",
    "Eine Dolmetscherin für Ukrainisch wäre gut gewesen.",
)


def past_dates(format: Format, spec: dict, venues, people, *, now: datetime) -> list[Session]:
    """The format's dates of the last HISTORY_DAYS, held, with check-ins and feedback.

    `people(session, count, when)` registers `count` residents at `when`; `venues` gives
    the organisation each date takes place at.
    """
    planned = now - timedelta(days=HISTORY_DAYS)
    rule = RecurrenceSpec(
        kind="monthly",
        start_date=planned.date(),
        start_time=spec["start_time"],
        weekday=spec["weekday"],
        nth=spec["nth"],
        until=(now - timedelta(days=1)).date(),
    )
    scheduling.apply_recurrence(format, rule)
    sessions = [
        draft
        for draft in scheduling.generate_sessions(format, now=planned)
        if place(draft, venues, spec, now=planned)
    ]
    if sessions:
        scheduling.publish_sessions(format, sessions, now=planned)
    generator = random.Random(f"{format.slug}")  # noqa: S311 - demo answers, not secrets
    for session in sessions:
        if session.ends_at > now - timedelta(hours=format.feedback_delay_hours):
            continue
        _held(session, people, generator)
    return sessions


def holidays(moment: datetime) -> bool:
    """Between Christmas and Epiphany the programme pauses."""
    day = (moment.month, moment.day)
    return day >= (12, 22) or day <= (1, 6)


def place(draft: Session, venues: Iterator[Organisation], spec: dict, *, now: datetime) -> bool:
    """Give a generated draft the next venue, its languages and interpreting, as an
    organiser does on the date's form; a draft in the holidays is skipped instead (False)."""
    if holidays(draft.local_start):
        scheduling.skip_draft(draft)
        return False
    venue = next(venues)
    details = SessionDetails(
        venue_name=venue.venue_name,
        venue_address=venue.venue_address,
        host_organisation=venue,
        capacity=draft.format.capacity,
        languages=spec["languages"],
        interpreting=spec["interpreting"],
        note="",
    )
    scheduling.update_session_details(draft, details, now=now)
    draft.translations = {
        language: {"interpreting": text}
        for language, text in spec.get("interpreting_translations", {}).items()
    }
    return True


def _held(session: Session, people, generator: random.Random) -> None:
    """Most of those registered came and were checked in; of those, most answered."""
    registered = people(session, session.capacity - 2, session.starts_at - timedelta(days=10))
    for registration in registered:
        if registration.status == RegistrationStatus.PENDING:  # formats with approval
            registrations.approve_registration(
                registration, now=session.starts_at - timedelta(days=5)
            )
    door = session.starts_at - timedelta(minutes=15)
    for registration in registered:
        registrations.set_attendance(registration, generator.random() < 0.85, now=door)
    opened = session.ends_at + timedelta(hours=session.format.feedback_delay_hours)
    feedback.invite_due(now=opened)
    invitations = db.session.scalars(
        select(FeedbackInvitation).where(FeedbackInvitation.session_id == session.id)
    ).all()
    for invitation in invitations:
        if generator.random() < 0.7:
            feedback.answer(feedback_token(invitation.token_nonce), _answers(generator))
    _topics_decided(session, generator)


# Why a suggested topic was not taken up (yet): what the demo's organisers wrote.
NOT_NOW = (
    "Dafür laden wir die Fachdienststelle ein; der Termin dafür ist im nächsten Jahr.",
    "Das liegt nicht bei der Polizei; wir haben die Frage an die Stadt weitergegeben.",
)


def _topics_decided(session: Session, generator: random.Random) -> None:
    """The host's organisers read the texts two days later: the topic suggestions are
    released, and some were taken up four weeks on or put off with a reason."""
    decided = session.ends_at + timedelta(days=2)
    for response in feedback.texts_of(session):
        if not response.topics:
            continue
        feedback.decide_texts(response, TextsState.RELEASED, "", now=decided)
        roll = generator.random()
        if roll < 0.4:
            taken_up_on = (session.local_start + timedelta(days=28)).date()
            feedback.set_topic_status(
                response, TopicStatus.TAKEN_UP, taken_up_on=taken_up_on, note=""
            )
        elif roll < 0.6:
            feedback.set_topic_status(
                response, TopicStatus.NOT_NOW, taken_up_on=None, note=generator.choice(NOT_NOW)
            )


def _answers(generator: random.Random) -> feedback.Answers:
    scores = {}
    for item in ITEMS:
        roll = generator.random()
        # Mostly favourable about the date, more mixed about the police in general.
        favourable = 0.8 if item.key in ("learned", "recommend") else 0.55
        if roll < 0.05:
            scores[item.key] = None
        elif roll < 0.1:
            scores[item.key] = DONT_KNOW
        elif generator.random() < favourable:
            scores[item.key] = generator.choice((3, 4))
        else:
            scores[item.key] = generator.choice((1, 2))
    return feedback.Answers(
        scores,
        topics=generator.choice(TOPICS) if generator.random() < 0.4 else "",
        other=generator.choice(OTHER) if generator.random() < 0.25 else "",
    )
