"""A rush on a popular date that keeps seats for partners: does a registration cost more
the longer the waitlist grows?

One published session with 2 public seats and unreleased contingents for two partner
organisations (6 and 4 kept seats), served by gunicorn with 2 sync workers as in
`benchmarks/load.py`. 16 clients, each one browser session in a process of its own
(cookie and CSRF token from the session page), post 2,100 registrations with new
addresses: 2 take the public seats, the other 2,098 go on the waitlist, while the partners'
seats stay kept. On SQLite and (when it answers) PostgreSQL.

Prints, per engine: the time per registration (wall time of the batch divided by its size)
and the mean and p99 latency of the first 150 and the last 150 registrations, their ratio,
and the whole run's throughput and p99. Also the same run's bare Flask "hello" for scale.
Run with `make bench-load` (after load.py), or `.venv/bin/python -m benchmarks.rush`.
Prints; asserts nothing.
"""

from __future__ import annotations

import http.client
import multiprocessing
import re
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from benchmarks._serve import APP_ENV, gunicorn, median_wrk, on_each_engine, wrk
from eventsapp import create_app
from eventsapp.database import db
from eventsapp.models import Format, Organisation, OrganisationKind, Session, SessionStatus
from eventsapp.services.contingents import set_contingent
from eventsapp.services.demo import load_demo_data

REGISTRATIONS = 2_100
CLIENTS = 16
BATCH = 150
PUBLIC_SEATS, KEPT = 2, (6, 4)


def add_contingent_session(now: datetime) -> int:
    """A published session with `PUBLIC_SEATS` public seats and a contingent kept for each
    of two partners until a month before it starts; in the app context, committed."""
    host = Organisation(
        slug=f"rush-host-{uuid.uuid4().hex[:6]}", name="Polizei (Rush)", kind=OrganisationKind.HOST
    )
    partners = [
        Organisation(
            slug=f"rush-partner-{n}-{uuid.uuid4().hex[:6]}",
            name=f"Partner {n}",
            kind=OrganisationKind.PARTNER,
            contact_email=f"kontakt{n}@partner.example",
        )
        for n in range(len(KEPT))
    ]
    capacity = PUBLIC_SEATS + sum(KEPT)
    format = Format(
        slug=f"rush-{uuid.uuid4().hex[:6]}",
        title="Blick in die Polizei (Andrang)",
        host_organisation=host,
        capacity=capacity,
    )
    starts_at = now + timedelta(days=60)
    session = Session(
        format=format,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        venue_name="Polizeipräsidium Dortmund",
        host_organisation=host,
        capacity=capacity,
        status=SessionStatus.PUBLISHED,
        published_at=now,
    )
    db.session.add_all([host, *partners, format, session])
    db.session.flush()
    for partner, seats in zip(partners, KEPT, strict=True):
        set_contingent(
            session, partner, seats=seats, release_at=starts_at - timedelta(days=30), now=now
        )
    db.session.commit()
    return session.id


def seed(database: str, tmp: Path, *, demo: bool = False) -> int:
    """A fresh database with the rush session (and the demo programme around it when
    `demo`); the session's id."""
    app = create_app(
        "Config",
        SQLALCHEMY_DATABASE_URI=database,
        SECRET_KEY="benchmark",
        INSTANCE_PATH=tmp / "instance",
    )
    with app.app_context():
        db.create_all()
        now = datetime.now(UTC)
        if demo:
            load_demo_data(now=now)
        session_id = add_contingent_session(now)
        db.engine.dispose()
    return session_id


@dataclass
class Done:
    finished: float  # time.perf_counter() when the answer was read
    seconds: float
    status: int


def client(base: str, session_id: int, numbers, results) -> None:
    """One browser, in a process of its own (a thread would wait for the GIL and add that
    to the latency it measures): a session page for cookie and token, then registration
    after registration until `numbers` runs out. Sends (finished, seconds, status) back."""
    address = urlsplit(base).netloc
    connection = http.client.HTTPConnection(address, timeout=30)
    connection.request("GET", f"/sessions/{session_id}")
    answer = connection.getresponse()
    page = answer.read().decode()
    cookie = "; ".join(
        value.split(";", 1)[0] for name, value in answer.getheaders() if name == "Set-Cookie"
    )
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    done = []
    while (n := numbers.get()) is not None:
        body = urlencode(
            {
                "name": "Rush Test",
                "email": f"rush{n}-{uuid.uuid4().hex[:8]}@example.org",
                "language": "de",
                "consent": "y",
                "csrf_token": token,
            }
        )
        started = time.perf_counter()
        connection.request("POST", f"/sessions/{session_id}/register", body, headers)
        answer = connection.getresponse()
        answer.read()
        finished = time.perf_counter()
        done.append((finished, finished - started, answer.status))
    connection.close()
    results.put(done)


def rush(base: str, session_id: int) -> list[Done]:
    numbers = multiprocessing.Queue()
    results = multiprocessing.Queue()
    clients = [
        multiprocessing.Process(target=client, args=(base, session_id, numbers, results))
        for _ in range(CLIENTS)
    ]
    for process in clients:
        process.start()
    for n in range(REGISTRATIONS):
        numbers.put(n)
    for _ in clients:
        numbers.put(None)
    done = [Done(*row) for _ in clients for row in results.get()]
    for process in clients:
        process.join()
    return sorted(done, key=lambda d: d.finished)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


@dataclass
class Batch:
    per_registration_ms: float  # wall time of the batch / its size
    mean_ms: float
    p99_ms: float


def batch(done: list[Done], before: float) -> Batch:
    """`before`: when the batch began (the previous answer, or the start of the run)."""
    wall = done[-1].finished - before
    latencies = [d.seconds * 1000 for d in done]
    return Batch(wall * 1000 / len(done), statistics.fmean(latencies), p99(latencies))


def measure(label: str, database: str, tmp: Path) -> list[str]:
    session_id = seed(database, tmp)
    env = {
        "DATABASE_URL": database,
        **APP_ENV,
    }
    with gunicorn("benchmarks.hello_app:app", env) as base:
        wrk(base + "/", seconds=2)
        hello = median_wrk(base + "/")
    with gunicorn("wsgi:app", env) as base:
        start = time.perf_counter()  # perf_counter is one clock for all processes on Linux
        done = rush(base, session_id)
    first = batch(done[:BATCH], start)
    last = batch(done[-BATCH:], done[-BATCH - 1].finished)
    latencies = [d.seconds * 1000 for d in done]
    wall = done[-1].finished - start
    bad = sum(1 for d in done if d.status != 303)
    return [
        f"{label}: bare Flask hello {hello.requests_per_second:,.0f} req/s",
        f"{label}: {len(done):,} registrations in {wall:.1f} s, "
        f"{len(done) / wall:,.0f} req/s, p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {p99(latencies):.1f} ms, answers other than 303: {bad}",
        f"{label}: first {BATCH}: {first.per_registration_ms:.2f} ms per registration, "
        f"mean {first.mean_ms:.1f} ms, p99 {first.p99_ms:.1f} ms",
        f"{label}: last {BATCH} (over 1,900 waiting): {last.per_registration_ms:.2f} ms per "
        f"registration, mean {last.mean_ms:.1f} ms, p99 {last.p99_ms:.1f} ms",
        f"{label}: last / first: {last.per_registration_ms / first.per_registration_ms:.2f} "
        f"(time per registration), {last.mean_ms / first.mean_ms:.2f} (mean latency)",
    ]


def main() -> None:
    lines = on_each_engine(measure, "rush")
    print(
        f"A rush: {REGISTRATIONS:,} public registrations for one session with "
        f"{PUBLIC_SEATS} public seats and partner contingents of {KEPT[0]} and {KEPT[1]} kept "
        f"seats; {CLIENTS} clients, gunicorn with 2 sync workers"
    )
    for line in lines:
        print("  " + line)


if __name__ == "__main__":
    main()
