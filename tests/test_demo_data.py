"""`flask demo-data` loads the Dortmund programme once; running it again changes nothing.

The demo is built through the services the app uses, so its seats must obey the same rules
as any real session: nobody over capacity, a waitlist only where no seat is free to the
person waiting, contingent seats only for the partner's own members, no mail queued.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.models import (
    SEAT_HOLDING,
    Contingent,
    FeedbackResponse,
    Format,
    Organisation,
    OutboxMessage,
    Publication,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
    Subscription,
    User,
)
from eventsapp.services import accounts
from tests.factories import queue_plain_mail

MODELS = (
    Organisation,
    User,
    Format,
    Publication,
    Session,
    Contingent,
    Registration,
    Subscription,
    OutboxMessage,
    FeedbackResponse,
)


def _snapshot() -> tuple:
    """Row counts of every table the demo writes, and who holds which state where."""
    counts = tuple(
        db.session.execute(select(func.count()).select_from(model)).scalar_one() for model in MODELS
    )
    states = db.session.execute(
        select(Registration.session_id, Registration.status, func.count())
        .group_by(Registration.session_id, Registration.status)
        .order_by(Registration.session_id, Registration.status)
    ).all()
    return counts, tuple(states)


def _sessions(slug: str) -> list[Session]:
    return list(
        db.session.execute(
            select(Session).join(Format).where(Format.slug == slug).order_by(Session.starts_at)
        ).scalars()
    )


def _upcoming(slug: str, now) -> list[Session]:
    return [session for session in _sessions(slug) if session.starts_at > now]


def _registrations(session: Session) -> list[Registration]:
    return list(
        db.session.execute(
            select(Registration)
            .where(Registration.session_id == session.id)
            .order_by(Registration.id)
        ).scalars()
    )


def test_demo_data_is_complete_and_idempotent(app, runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        after_first = _snapshot()
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0, second.output
    assert "0 new sessions" in second.output
    assert "password" not in second.output  # the accounts exist: no new passwords
    with app.app_context():
        assert _snapshot() == after_first
        organisations = db.session.execute(select(Organisation)).scalars().all()
        assert len(organisations) == 13
        assert {o.kind for o in organisations} == {"host", "partner"}
        names = {o.name for o in organisations}
        assert "Rat der muslimischen Gemeinden in Dortmund" in names
        assert "Verein Kamerunischer Ingenieure und Informatiker e.V." in names

        now = utcnow()
        for slug in ("blick-in-die-polizei", "blick-in-die-organisation"):
            held = [s for s in _sessions(slug) if s.starts_at < now]
            sessions = _upcoming(slug, now)
            assert len(sessions) >= 5
            # The past four months took place: people came, and answered afterwards.
            assert 3 <= len(held) <= 5
            assert all(s.starts_at > now - timedelta(days=125) for s in held)
            for session in held[:3]:
                came = [r for r in _registrations(session) if r.attended]
                answered = db.session.scalar(
                    select(func.count()).where(FeedbackResponse.session_id == session.id)
                )
                assert 0 < answered <= len(came) <= len(_registrations(session))
                assert session.feedback_invited_at > session.ends_at
            assert any(r.attended is False for s in held for r in _registrations(s))  # no-shows
            assert any(
                db.session.scalar(
                    select(func.count()).where(FeedbackResponse.session_id == session.id)
                )
                >= 5
                for session in held
            )
            assert all(s.status == SessionStatus.PUBLISHED for s in sessions[2:])
            assert sessions[-1].starts_at > now + timedelta(days=150)
            assert sessions[-1].starts_at < now + timedelta(days=200)
            for session in sessions:  # the holidays are left out
                day = (session.local_start.month, session.local_start.day)
                assert (1, 6) < day < (12, 22)

        hosts = [s.host_organisation.slug for s in _sessions("blick-in-die-organisation")]
        assert len(set(hosts)) == len(hosts)  # a different partner each time
        assert "polizei-dortmund" not in hosts
        police = _sessions("blick-in-die-polizei")
        assert {s.host_organisation.slug for s in police} == {"polizei-dortmund"}
        assert all(s.languages == "de,tr,ar" and s.interpreting for s in police)


def test_demo_accounts_are_printed_once_and_work(app, runner):
    result = runner.invoke(args=["demo-data"])
    printed = re.findall(r"(\w+) account: (\S+)  password: (\S+)", result.output)
    assert {role for role, _, _ in printed} == {"admin", "organiser", "partner"}
    with app.app_context():
        for role, email, password in printed:
            user = accounts.authenticate(email, password, now=utcnow())
            assert user is not None and user.role == role
        assert accounts.find_user_by_email("mitglied@vmdo.example").organisation.slug == "vmdo"


@dataclass
class Seats:
    """A session's seats counted straight from its rows, independently of the services."""

    capacity: int
    held: list[Registration]  # pending or confirmed
    waiting: list[Registration]
    kept: dict[int, int]  # unused seats of unreleased contingents, by organisation id

    @property
    def public_left(self) -> int:
        return self.capacity - len(self.held) - sum(self.kept.values())


def _seats(session: Session, now) -> Seats:
    people = _registrations(session)
    held = [r for r in people if r.status in SEAT_HOLDING]
    kept = {
        c.organisation_id: c.seats - sum(r.contingent_id == c.id for r in held)
        for c in session.contingents
        if now < c.release_at
    }
    waiting = [r for r in people if r.status == RegistrationStatus.WAITLISTED]
    return Seats(session.capacity, held, waiting, kept)


def test_demo_seats_obey_the_rules(app, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        now = utcnow()
        for session in db.session.execute(select(Session)).scalars():
            seats = _seats(session, now)
            assert all(free >= 0 for free in seats.kept.values())  # no contingent overdrawn
            assert seats.public_left >= 0, session.id  # nobody over capacity
            if not session.format.approval_required:
                assert all(r.status != RegistrationStatus.PENDING for r in seats.held)
            for waiting in seats.waiting:  # nobody waits while a seat is free to them
                user = waiting.user
                partner = user.organisation_id if user and user.is_partner else None
                assert seats.public_left == 0 and seats.kept.get(partner, 0) == 0
            for registration in seats.held:  # contingent seats: the partner's members only
                if registration.contingent_id is not None:
                    contingent = db.session.get(Contingent, registration.contingent_id)
                    assert contingent.session_id == session.id
                    assert registration.user is not None and registration.user.is_partner
                    assert registration.user.organisation_id == contingent.organisation_id
        kinds = {c.organisation.kind for c in db.session.execute(select(Contingent)).scalars()}
        assert kinds == {"partner"}


def test_demo_shows_every_state(app, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        now = utcnow()
        police, cancelled = _upcoming("blick-in-die-polizei", now)[:2]
        visit = _upcoming("blick-in-die-organisation", now)[0]

        # Approval: most approved, some still pending; two partners hold seats, one of them
        # used by the VMDO member's account.
        assert police.format.approval_required
        statuses = Counter(r.status for r in _registrations(police))
        assert statuses[RegistrationStatus.CONFIRMED] > 0
        assert statuses[RegistrationStatus.PENDING] > 0
        assert {c.organisation.slug for c in police.contingents} == {"vmdo", "afrido"}
        held = [r for r in _registrations(police) if r.contingent_id]
        assert [r.email for r in held] == ["mitglied@vmdo.example"]
        assert 0 < _seats(police, now).public_left <= 3  # nearly full

        # A full date with a waitlist, after one cancellation moved someone up.
        seats = _seats(visit, now)
        assert len(seats.held) == visit.capacity and seats.waiting
        statuses = Counter(r.status for r in _registrations(visit))
        assert statuses[RegistrationStatus.CANCELLED] == 1

        # A cancelled date, with a reason, whose registrants were told.
        assert cancelled.status == SessionStatus.CANCELLED and cancelled.cancel_reason
        assert _registrations(cancelled)

        # Followers: partner contacts (from the announcement), accounts, residents.
        sources = Counter(
            (s.source, s.status) for s in db.session.execute(select(Subscription)).scalars()
        )
        assert sources[("partner", "confirmed")] == 2 * 12
        assert sources[("account", "confirmed")] == 2 * 2
        assert sources[("self", "confirmed")] == 2 and sources[("self", "pending")] == 2

        # The services queued mail for all of this; none of it is left to send.
        assert db.session.execute(select(func.count(OutboxMessage.id))).scalar_one() == 0
        # Each format published twice: its past dates (when they were planned), then the
        # coming ones.
        assert db.session.execute(select(func.count(Publication.id))).scalar_one() == 4


def test_demo_data_keeps_mail_queued_before_it(app, runner):
    """Only the mail the demo itself caused is dropped."""
    with app.app_context():
        queue_plain_mail(2, prefix="before")
        db.session.commit()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        keys = db.session.execute(select(OutboxMessage.dedupe_key)).scalars().all()
        assert sorted(keys) == ["bulk:before:0", "bulk:before:1"]
