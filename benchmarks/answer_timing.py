"""Does the time of an answer tell whether an address is known?

Registering for a session with a new address and with one already registered, and
subscribing to a format with a new, a pending and a confirmed address, must answer alike:
the same page, and times that differ by no more than noise. This serves the app with
gunicorn (one worker, so that requests do not wait for each other), on SQLite and, when it
answers, on PostgreSQL, and times 50 tries of each kind over HTTP, each with its own
browser session (cookie and CSRF token fetched first, not timed). The kinds take turns, so
that a slow moment of the machine falls on all of them alike.

Run with `make bench-answers` or `.venv/bin/python -m benchmarks.answer_timing`.
Prints medians and the largest ratio between the kinds; asserts nothing.
"""

from __future__ import annotations

import http.cookiejar
import re
import statistics
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._serve import APP_ENV, gunicorn, on_each_engine
from eventsapp import create_app
from eventsapp.database import db

TRIES = 50
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the 303 itself is the answer timed
        return None


def seed(database: str, tmp: Path) -> int:
    """A format with one roomy session, 50 registered, 50 pending and 50 confirmed
    addresses. Returns the session's id."""
    from eventsapp.models import Format, Organisation, OrganisationKind, Session, SessionStatus
    from eventsapp.services import registrations, subscriptions

    app = create_app(
        "Config", SQLALCHEMY_DATABASE_URI=database, SECRET_KEY="benchmark", INSTANCE_PATH=tmp
    )
    now = datetime.now(UTC)
    with app.app_context():
        db.create_all()
        host = Organisation(slug="polizei", name="Polizei", kind=OrganisationKind.HOST)
        format = Format(slug="blick", title="Blick in die Polizei", host_organisation=host)
        starts = now + timedelta(days=30)
        session = Session(
            format=format,
            host_organisation=host,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            venue_name="Präsidium",
            capacity=10_000,
            status=SessionStatus.PUBLISHED,
        )
        db.session.add_all([host, format, session])
        db.session.flush()
        for n in range(TRIES):
            registrations.register_for_session(
                session,
                registrations.Applicant(name=f"Known {n}", email=f"known{n}@example.org"),
                now=now,
            )
            subscriptions.request_subscription(format, f"pending{n}@example.org", "de", now=now)
            subscriptions.request_subscription(format, f"confirmed{n}@example.org", "de", now=now)
            subscriptions.confirm(subscriptions._find(format, f"confirmed{n}@example.org"), now=now)
        db.session.commit()
        session_id = session.id
        db.engine.dispose()
    return session_id


def timed_post(base: str, page: str, action: str, fields: dict[str, str]) -> float:
    """Open the form page like a browser, then time the POST alone (milliseconds)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    token = CSRF.search(opener.open(base + page).read().decode()).group(1)
    body = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
    quiet = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    started = time.perf_counter()
    try:
        quiet.open(base + action, body)
    except urllib.error.HTTPError as answer:
        if answer.code != 303:
            raise
    return (time.perf_counter() - started) * 1000


def measure(label: str, database: str, tmp: Path) -> dict[str, list[float]]:
    session_id = seed(database, tmp)
    env = {
        "DATABASE_URL": database,
        **APP_ENV,
    }
    runs: dict[str, list[float]] = {
        "register, new address": [],
        "register, registered address": [],
        "subscribe, new address": [],
        "subscribe, pending address": [],
        "subscribe, confirmed address": [],
    }
    register = (f"/sessions/{session_id}", f"/sessions/{session_id}/register")
    subscribe = ("/formats/blick", "/formats/blick/subscribe")
    person = {"name": "Probe", "language": "de", "consent": "y"}
    with gunicorn("wsgi:app", env, workers=1) as base:
        for n in range(TRIES + 5):  # the first five warm the worker up and are not counted
            tries = {
                "register, new address": (*register, {**person, "email": f"new{n}@example.org"}),
                "register, registered address": (
                    *register,
                    {**person, "email": f"known{n % TRIES}@example.org"},
                ),
                "subscribe, new address": (*subscribe, {"email": f"fan{n}@example.org"}),
                "subscribe, pending address": (
                    *subscribe,
                    {"email": f"pending{n % TRIES}@example.org"},
                ),
                "subscribe, confirmed address": (
                    *subscribe,
                    {"email": f"confirmed{n % TRIES}@example.org"},
                ),
            }
            for kind, (page, action, fields) in tries.items():
                took = timed_post(base, page, action, {"language": "de", **fields})
                if n >= 5:
                    runs[kind].append(took)
    print(f"{label}: median and 90th percentile of {TRIES} POSTs each, milliseconds")
    for group in ("register", "subscribe"):
        medians = {k: statistics.median(v) for k, v in runs.items() if k.startswith(group)}
        for kind, median in medians.items():
            p90 = statistics.quantiles(runs[kind], n=10)[-1]
            print(f"  {kind:<32}{median:8.2f}{p90:8.2f}")
        spread = max(medians.values()) / min(medians.values())
        print(f"  {group}: slowest median / fastest median = {spread:.2f}")
    return runs


def main() -> None:
    on_each_engine(measure, "answers")


if __name__ == "__main__":
    main()
