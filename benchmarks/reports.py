"""The report page of a busy year, measured in one run on this machine.

A year of 60 dates for two formats with 5,000 registrations (confirmed, waitlisted,
cancelled; check-in at most dates, with no-shows; partner contingents) and 2,000 feedback
responses. The organisers' report page (an admin, so the whole programme) is requested in
process through Flask's test client for each grouping, and the same client asks a bare
Flask "hello" endpoint in the same app for the baseline; then the feedback CSV, the API
and the PDF (5 runs; by date is the longest, with every released topic). Printed: the
median and the slowest of 20 requests each, in milliseconds, on SQLite and (when it
answers) PostgreSQL.

Run with `make bench-reports`, or `.venv/bin/python -m benchmarks.reports`. Prints;
asserts nothing. The targets of issue 17: under 300 ms for the page, 3 s for the PDF.
"""

from __future__ import annotations

import random
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta

from benchmarks._serve import on_each_engine
from eventsapp import create_app
from eventsapp.database import db
from eventsapp.models import (
    Contingent,
    FeedbackResponse,
    Format,
    Organisation,
    OrganisationKind,
    Registration,
    RegistrationStatus,
    Role,
    Session,
    SessionStatus,
    TextsState,
    TopicStatus,
)
from eventsapp.services.accounts import create_user
from eventsapp.tokens import hash_token

YEAR = 2026
SESSIONS = 60
REGISTRATIONS = 5_000
RESPONSES = 2_000
RUNS = 20
PDF_RUNS = 5
TOPIC_SHARE = 0.15  # responses with a released topic suggestion, listed in page and PDF
PASSWORD = "benchmark benchmark"


def seed() -> None:
    """Rows written directly, not through the services: 5,000 registrations through the
    seat engine would make the benchmark's set-up longer than the measurement, and the
    report reads rows, whoever wrote them."""
    generator = random.Random(17)
    now = datetime(YEAR + 1, 1, 15, tzinfo=UTC)
    host = Organisation(slug="polizei", name="Polizei Dortmund", kind=OrganisationKind.HOST)
    partners = [
        Organisation(slug=f"verein-{n}", name=f"Verein {n}", kind=OrganisationKind.PARTNER)
        for n in range(12)
    ]
    db.session.add_all([host, *partners])
    formats = [
        Format(slug=slug, title=title, host_organisation=host)
        for slug, title in (
            ("blick", "Blick in die Polizei"),
            ("orga", "Blick in die Organisation"),
        )
    ]
    db.session.add_all(formats)
    create_user(
        email="admin@example.org",
        name="Admin",
        role=Role.ADMIN,
        organisation=None,
        password=PASSWORD,
        now=now,
    )
    sessions = []
    for n in range(SESSIONS):
        starts = datetime(YEAR, 1, 3, 16, tzinfo=UTC) + timedelta(days=6 * n)
        sessions.append(
            Session(
                format=formats[n % 2],
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                venue_name="Präsidium",
                host_organisation=host,
                capacity=70,
                status=SessionStatus.CANCELLED if n % 15 == 14 else SessionStatus.PUBLISHED,
                interpreting="Türkisch" if n % 3 == 0 else "",
            )
        )
    db.session.add_all(sessions)
    db.session.flush()
    contingents = []
    for session in sessions:
        for partner in generator.sample(partners, 2):
            contingents.append(
                Contingent(
                    session_id=session.id,
                    organisation=partner,
                    seats=4,
                    release_at=session.starts_at - timedelta(days=3),
                    released_handled_at=session.starts_at - timedelta(days=3),
                )
            )
    db.session.add_all(contingents)
    db.session.flush()
    kept = {c.session_id: c for c in contingents}
    rows = []
    for n in range(REGISTRATIONS):
        session = sessions[n % SESSIONS]
        roll = generator.random()
        status = (
            RegistrationStatus.CONFIRMED
            if roll < 0.75
            else RegistrationStatus.WAITLISTED
            if roll < 0.9
            else RegistrationStatus.CANCELLED
        )
        confirmed = status == RegistrationStatus.CONFIRMED
        contingent = kept[session.id] if confirmed and generator.random() < 0.05 else None
        rows.append(
            Registration(
                session_id=session.id,
                name=f"Person {n}",
                email=f"person{n}@example.org",
                language=generator.choice(("de", "tr", "ar", "uk", "fr", "en")),
                status=status,
                attended=(generator.random() < 0.8) if confirmed and n % 4 else None,
                contingent_id=contingent.id if contingent else None,
                organisation_id=contingent.organisation_id if contingent else None,
                token_nonce=secrets.token_urlsafe(24),
                token_hash=hash_token(secrets.token_urlsafe(32)),
            )
        )
    db.session.add_all(rows)
    answers = (1, 2, 3, 4, 0, None)
    db.session.add_all(
        FeedbackResponse(
            session_id=sessions[n % SESSIONS].id,
            round_on=sessions[n % SESSIONS].starts_at.date(),
            respect=generator.choice(answers),
            fair=generator.choice(answers),
            explain=generator.choice(answers),
            learned=generator.choice(answers),
            recommend=generator.choice(answers),
            topics=f"Thema {n}: Wie arbeitet die Polizei mit Vereinen zusammen?"
            if generator.random() < TOPIC_SHARE
            else "",
            texts_state=TextsState.RELEASED,
            topic_status=generator.choice(list(TopicStatus)),
            topic_taken_up_on=sessions[n % SESSIONS].starts_at.date() + timedelta(days=30),
            topic_note="Dafür braucht es eine eigene Veranstaltung.",
        )
        for n in range(RESPONSES)
    )
    db.session.commit()


def _times(client, path: str, runs: int = RUNS) -> list[float]:
    found = []
    for _ in range(runs + 2):
        start = time.perf_counter()
        answer = client.get(path)
        found.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return found[2:]  # the first two warm up


def measure(label: str, database: str, tmp) -> list[tuple[str, str, list[float]]]:
    app = create_app(
        "Config",
        SQLALCHEMY_DATABASE_URI=database,
        SECRET_KEY="benchmark",
        INSTANCE_PATH=tmp / "instance",
        RATELIMIT_ENABLED=False,
        SESSION_COOKIE_SECURE=False,
    )
    app.add_url_rule("/hello", "bench_hello", lambda: "hello")
    with app.app_context():
        db.create_all()
        seed()
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    signed_in = client.post(
        "/auth/login",
        data={"email": "admin@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert signed_in.status_code == 303, signed_in.status_code
    results = [(label, "bare Flask hello", _times(client, "/hello"))]
    for grouping in ("format", "session", "quarter"):
        path = f"/organiser/reports?year={YEAR}&group={grouping}"
        results.append((label, f"report page, by {grouping}", _times(client, path)))
    path = f"/organiser/reports/feedback.csv?year={YEAR}&group=session"
    results.append((label, "feedback CSV, by session", _times(client, path)))
    path = f"/api/v1/reports?year={YEAR}&group=session"
    results.append((label, "API, by session", _times(client, path)))
    for grouping in ("format", "session"):  # by date: the longest PDF, 60 rows per table
        path = f"/organiser/reports.pdf?year={YEAR}&group={grouping}"
        results.append((label, f"PDF, by {grouping}", _times(client, path, PDF_RUNS)))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    results = on_each_engine(measure, "reports")
    print(
        f"A year of {SESSIONS} dates, {REGISTRATIONS:,} registrations, {RESPONSES:,} feedback "
        f"responses; in process, median and slowest of {RUNS} requests (ms)"
    )
    for label, name, times in results:
        print(f"  {label:<11}{name:<28}{statistics.median(times):9.1f}{max(times):9.1f}")


if __name__ == "__main__":
    main()
