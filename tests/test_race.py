"""No overbooking: many people submit the registration form for the last seats at once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.models import (
    Organisation,
    OrganisationKind,
    Registration,
    RegistrationStatus,
    Session,
)
from eventsapp.services import registrations as rules
from eventsapp.services.contingents import set_contingent
from tests.conftest import csrf_token
from tests.factories import applicant, make_organisation, make_session

RACERS = 40
LAST_SEATS = 3


def test_last_three_seats_go_to_exactly_three_of_forty(any_app):
    with any_app.app_context():
        session = make_session(capacity=10)
        for n in range(10 - LAST_SEATS):
            rules.register_for_session(session, applicant(f"early{n}"), now=session.created_at)
        db.session.commit()
        session_id = session.id

    url = f"/sessions/{session_id}"
    clients = [any_app.test_client() for _ in range(RACERS)]
    tokens = [csrf_token(c, url) for c in clients]  # each browser loaded the form first
    start = threading.Barrier(RACERS)
    responses: list = [None] * RACERS

    def submit(i: int) -> None:
        start.wait()
        responses[i] = clients[i].post(
            f"{url}/register",
            data={
                "name": f"Racer {i}",
                "email": f"racer{i}@example.org",
                "language": "de",
                "consent": "y",
                "csrf_token": tokens[i],
            },
        )

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [r.status_code for r in responses] == [303] * RACERS
    assert {r.headers["Location"] for r in responses} == {f"/sessions/{session_id}/registered"}
    with any_app.app_context():
        counts = dict(
            db.session.execute(
                select(Registration.status, func.count())
                .where(Registration.session_id == session_id, Registration.email.like("racer%"))
                .group_by(Registration.status)
            ).all()
        )
        assert counts == {
            RegistrationStatus.CONFIRMED: LAST_SEATS,
            RegistrationStatus.WAITLISTED: RACERS - LAST_SEATS,
        }
        stored = db.session.get(type(session), session_id)
        assert rules.seat_counts(stored, now=utcnow()).taken == 10


def test_one_person_submitting_many_times_at_once_gets_one_registration(any_app):
    with any_app.app_context():
        session_id = make_session(capacity=10).id
        db.session.commit()
    url = f"/sessions/{session_id}"
    attempts = 12
    clients = [any_app.test_client() for _ in range(attempts)]  # several tabs, say
    tokens = [csrf_token(c, url) for c in clients]
    start = threading.Barrier(attempts)
    codes: list[int] = [0] * attempts

    def submit(i: int) -> None:
        start.wait()
        codes[i] = (
            clients[i]
            .post(
                f"{url}/register",
                data={
                    "name": "Ayşe Demir",
                    "email": "ayse@example.org",
                    "language": "de",
                    "consent": "y",
                    "csrf_token": tokens[i],
                },
            )
            .status_code
        )

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert codes == [303] * attempts  # every attempt gets the same answer; one counts
    with any_app.app_context():
        assert (
            db.session.execute(
                select(func.count())
                .select_from(Registration)
                .where(Registration.session_id == session_id)
            ).scalar_one()
            == 1
        )


def test_a_registration_waiting_for_the_lock_sees_a_contingent_added_meanwhile(any_app):
    """An organiser reserves both seats while a registration waits for the seat lock: the
    registration must count the new contingent (on PostgreSQL a statement that waits for a
    row lock still sees other rows as they were when it began)."""
    with any_app.app_context():
        partner = make_organisation(OrganisationKind.PARTNER)
        session = make_session(capacity=2)
        db.session.commit()
        session_id, partner_id = session.id, partner.id
    locked, done = threading.Event(), threading.Event()
    outcome: dict = {}

    def organiser() -> None:
        with any_app.app_context():
            set_contingent(
                db.session.get(Session, session_id),
                db.session.get(Organisation, partner_id),
                seats=2,
                release_at=utcnow() + timedelta(days=1),
                now=utcnow(),
            )
            locked.set()
            time.sleep(0.5)  # the registration is waiting for the lock by now
            db.session.commit()
            done.set()

    def visitor() -> None:
        locked.wait(timeout=30)
        with any_app.app_context():
            outcome["status"] = rules.take_place(session_id, applicant(1), now=utcnow()).status
            outcome["after_commit"] = done.is_set()
            db.session.commit()

    threads = [threading.Thread(target=organiser), threading.Thread(target=visitor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome == {"status": RegistrationStatus.WAITLISTED, "after_commit": True}
