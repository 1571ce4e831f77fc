"""What each piece of home-made infrastructure buys, with and without it in the same run.

Issue 15: the page cache, the custom MIME builder and the iCal line writer each stay only
where they buy at least 15 % on a figure a user would notice. For each, this measures that
figure with the piece ("with") and with the library's way in its place ("without", see
benchmarks/_infra_alt.py), in one run:

- page cache: the session page and the programme (home page) for anonymous visitors, cache
  on and off (every request renders);
- iCal line writer: a feed of 500 sessions, cold build in-process, and served uncached (the
  first poll after any change: fingerprint, load, build, gzip), content lines against
  icalendar objects and `Calendar.to_ical()`;
- MIME builder: outbox mails (text, HTML, .ics) built per second in-process, and the
  outbox worker's delivery to a local aiosmtpd sink, against `email.message.EmailMessage`
  and Flask-Mail's `Message.as_bytes()`.

Served figures: gunicorn with 2 sync workers on loopback (benchmarks/_infra_app.py switches
the piece off from the benchmark side; eventsapp/ is untouched), SQLite, demo data, wrk -t2
-c16 (-c2 for uncached feeds, one request per worker); both variants are served at once and
their runs take turns (a warm-up each, then with, without, five times); the median of each
figure is shown, next to a bare Flask "hello" served the same way (ratio in brackets).
In-process figures (CPU time per request through the WSGI app, feed builds, mails built,
outbox delivery): medians of batches that also take turns. Gain: how much better "with" is
than "without" (higher throughput, or lower time); issue 15 keeps a piece at >= 15 %.
Both variants must produce the same feed events and the same mail content, or it stops.

The SQLite writer queue and the cookie-session interface were measured with this benchmark on
2026-12-03 and then removed (see docs/decisions.md).

Run with `.venv/bin/python -m benchmarks.infra` (about three minutes; needs wrk). Prints;
asserts nothing about the figures.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
from sqlalchemy import select, update

from benchmarks import _infra_alt as alt
from benchmarks._serve import APP_ENV, WrkResult, free_port, gunicorn, wrk
from benchmarks.mail import seed as mail_seed
from benchmarks.mail import start_sink
from eventsapp import create_app
from eventsapp.database import db
from eventsapp.models import (
    Format,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    OutboxStatus,
    Session,
    SessionStatus,
)
from eventsapp.services import feeds
from eventsapp.services.demo import load_demo_data

RUNS = 5  # timed runs per variant, taking turns; the median is reported
SECONDS = 2  # per wrk run
FEED_SESSIONS = 500
MAILS = 300  # per delivery run
MAIL_RUNS = 3  # delivery runs per variant
BUILD_BATCHES = 4  # of the 50 sample mails, per timed batch
BASE_URL = "https://termine.example.org"

ROWS: list[tuple[str, str, str, str, str]] = []  # piece, figure, with, without, gain


def gain(with_: float, without: float, *, higher_is_better: bool) -> float:
    return (with_ / without - 1) * 100 if higher_is_better else (without / with_ - 1) * 100


def number(value: float, unit: str = "", note: str = "") -> str:
    text = f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    return " ".join(part for part in (text, unit, note) if part)


def row(
    piece: str,
    figure: str,
    with_: float,
    without: float,
    unit: str = "",
    *,
    higher: bool,
    notes: tuple[str, str] = ("", ""),
) -> None:
    ROWS.append(
        (
            piece,
            figure,
            number(with_, unit, notes[0]),
            number(without, unit, notes[1]),
            f"{gain(with_, without, higher_is_better=higher):+.0f} %",
        )
    )
    print(f"  {piece}: {figure}: {ROWS[-1][2]} / {ROWS[-1][3]} ({ROWS[-1][4]})", flush=True)


# --- data ----------------------------------------------------------------------------------


def make_app(database: str, tmp: Path, **overrides):
    return create_app(
        "Config",
        SQLALCHEMY_DATABASE_URI=database,
        SECRET_KEY="benchmark",
        EVENTSAPP_BASE_URL=BASE_URL,
        INSTANCE_PATH=tmp / "instance",
        **overrides,
    )


def seed_demo(database: str, tmp: Path) -> int:
    """Demo data; returns the id of a session page to request (the next published one)."""
    app = make_app(database, tmp)
    with app.app_context():
        db.create_all()
        load_demo_data(now=datetime.now(UTC))
        now = datetime.now(UTC)
        upcoming = (
            db.session.execute(
                select(Session)
                .where(Session.status == SessionStatus.PUBLISHED, Session.starts_at > now)
                .order_by(Session.starts_at)
            )
            .scalars()
            .all()
        )
        page_id = upcoming[0].id
        db.engine.dispose()
    return page_id


def seed_feed(database: str, tmp: Path) -> None:
    """FEED_SESSIONS published sessions of two formats and two hosts, from two months back
    to about a year ahead, some cancelled, with notes and interpreting: one public feed."""
    app = make_app(database, tmp)
    with app.app_context():
        db.create_all()
        hosts = [
            Organisation(
                slug="polizei-dortmund",
                name="Polizeipräsidium Dortmund",
                kind=OrganisationKind.HOST,
                contact_email="dialog@polizei.example",
                venue_name="Polizeipräsidium Dortmund",
                venue_address="Markgrafenstraße 102, 44139 Dortmund",
            ),
            Organisation(
                slug="keuning-haus",
                name="Dietrich-Keuning-Haus; Nordstadt",
                kind=OrganisationKind.PARTNER,
                contact_email="kontakt@keuning.example",
                venue_name="Dietrich-Keuning-Haus",
                venue_address="Leopoldstraße 50–58, 44147 Dortmund",
            ),
        ]
        formats = [
            Format(
                slug="blick-in-die-polizei",
                title="Blick in die Polizei",
                summary="Bürgerinnen, Bürger und Mitglieder der Partnerorganisationen "
                "besuchen das Polizeipräsidium.",
                host_organisation=hosts[0],
                duration_minutes=150,
                capacity=25,
            ),
            Format(
                slug="dialog-vor-ort",
                title="Dialog vor Ort: Fragen, Sorgen, Ideen",
                summary="Gespräch in der Nachbarschaft, mit Übersetzung ins Türkische, "
                "Arabische und Ukrainische.",
                host_organisation=hosts[1],
                duration_minutes=120,
                capacity=40,
            ),
        ]
        db.session.add_all([*hosts, *formats])
        first = datetime.now(UTC).replace(hour=16, minute=0, second=0, microsecond=0)
        first -= timedelta(days=60)
        for n in range(FEED_SESSIONS):
            format = formats[n % 2]
            starts = first + timedelta(hours=21 * n)
            db.session.add(
                Session(
                    format=format,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=format.duration_minutes),
                    timezone="Europe/Berlin",
                    venue_name=format.host_organisation.venue_name,
                    venue_address=format.host_organisation.venue_address,
                    host_organisation=format.host_organisation,
                    capacity=format.capacity,
                    status=SessionStatus.CANCELLED if n % 17 == 0 else SessionStatus.PUBLISHED,
                    cancel_reason="Krankheit" if n % 17 == 0 else None,
                    sequence=1 + n % 3,
                    note="Bitte Ausweis mitbringen." if n % 2 else "Treffpunkt: Eingang, Tor 2",
                    interpreting="Dolmetschen ins Türkische und Arabische" if n % 3 else "",
                )
            )
        db.session.commit()
        db.engine.dispose()


# --- served figures ------------------------------------------------------------------------


def median_result(results: list[WrkResult]) -> WrkResult:
    """Each figure's own median over the runs."""
    median = statistics.median
    return WrkResult(
        median(r.requests_per_second for r in results),
        median(r.p50_ms for r in results),
        median(r.p99_ms for r in results),
        sum(r.non_2xx for r in results),
    )


def taking_turns(with_url: str, without_url: str, **kwargs) -> tuple[WrkResult, WrkResult]:
    """A warm-up of each, then RUNS runs of each taking turns; the medians."""
    runs: dict[str, list[WrkResult]] = {with_url: [], without_url: []}
    for n in range(-1, RUNS):
        for url in (with_url, without_url):
            result = wrk(url, seconds=1 if n < 0 else SECONDS, **kwargs)
            if n >= 0:
                runs[url].append(result)
    with_, without = median_result(runs[with_url]), median_result(runs[without_url])
    for label, result in (("with", with_), ("without", without)):
        if result.non_2xx:
            print(f"  warning: {result.non_2xx} non-2xx/3xx ({label})", file=sys.stderr)
    return with_, without


def served_rows(
    piece: str, figure: str, with_: WrkResult, without: WrkResult, hello: float
) -> None:
    """req/s (with the ratio to hello) and p99 of a pair of served variants."""
    row(
        piece,
        f"{figure} req/s",
        with_.requests_per_second,
        without.requests_per_second,
        higher=True,
        notes=(
            f"({with_.requests_per_second / hello:.2f})",
            f"({without.requests_per_second / hello:.2f})",
        ),
    )
    row(piece, f"{figure} p99", with_.p99_ms, without.p99_ms, "ms", higher=False)


def measure_web(tmp: Path, demo: str, page_session: int) -> None:
    env = {
        "DATABASE_URL": demo,
        **APP_ENV,
        "EVENTSAPP_BASE_URL": BASE_URL,
    }
    app = "benchmarks._infra_app:app"
    print("served: gunicorn 2 sync workers, SQLite, wrk -t2 -c16", flush=True)
    with gunicorn("benchmarks.hello_app:app", env) as base:
        wrk(base + "/", seconds=1)
        hello = median_result([wrk(base + "/", seconds=SECONDS) for _ in range(RUNS)])
    hello_rps = hello.requests_per_second
    ROWS.append(
        (
            "baseline",
            "bare Flask hello req/s (p99)",
            f"{hello_rps:,.0f} ({hello.p99_ms:.1f} ms)",
            "",
            "",
        )
    )
    print(f"  bare Flask hello: {hello_rps:,.0f} req/s, p99 {hello.p99_ms:.1f} ms", flush=True)

    with contextlib.ExitStack() as stack:
        full = stack.enter_context(gunicorn(app, env))
        no_pages = stack.enter_context(gunicorn(app, {**env, "INFRA_PAGE_CACHE": "off"}))

        for figure, path in (("session page", f"/sessions/{page_session}"), ("home page", "/")):
            with_, without = taking_turns(full + path, no_pages + path)
            served_rows("page cache", figure, with_, without, hello_rps)

    feed_db = f"sqlite:///{tmp / 'feed.sqlite'}"
    feed_env = {**env, "DATABASE_URL": feed_db, "INFRA_FEED_CACHE": "off"}
    with contextlib.ExitStack() as stack:
        lines = stack.enter_context(gunicorn(app, feed_env))
        objects = stack.enter_context(gunicorn(app, {**feed_env, "INFRA_ICAL": "icalendar"}))
        first = urllib.request.urlopen(lines + "/calendar.ics").read()
        other = urllib.request.urlopen(objects + "/calendar.ics").read()
        same_events(first, other)
        with_, without = taking_turns(
            lines + "/calendar.ics",
            objects + "/calendar.ics",
            headers={"Accept-Encoding": "gzip"},
            connections=2,
        )
        figure = f"uncached feed ({FEED_SESSIONS} events, -c2)"
        ratios = (
            f"({with_.requests_per_second / hello_rps:.3f})",
            f"({without.requests_per_second / hello_rps:.3f})",
        )
        row(
            "iCal writer",
            f"{figure} req/s",
            with_.requests_per_second,
            without.requests_per_second,
            higher=True,
            notes=ratios,
        )
        row("iCal writer", f"{figure} p50", with_.p50_ms, without.p50_ms, "ms", higher=False)


def measure_requests_in_process(tmp: Path, demo: str, page_session: int) -> None:
    """CPU time of one request through the WSGI app, in this process (no server, no wrk):
    the same page-cache comparisons as served, less exposed to whatever else the machine
    runs."""
    from werkzeug.test import EnvironBuilder

    from eventsapp import pagecache

    app = make_app(
        demo,
        tmp,
        RATELIMIT_ENABLED=False,
        SESSION_COOKIE_SECURE=False,
        EMAIL_CHECK_DELIVERABILITY=False,
    )
    page = f"/sessions/{page_session}"
    ours_cacheable = pagecache._cacheable

    def no_page_cache():
        pagecache._cacheable = lambda query: False

    def nothing():
        pass

    cases = (
        ("page cache", "session page", page, {}, no_page_cache, 40),
        ("page cache", "home page", "/", {}, no_page_cache, 40),
    )

    def cpu_us(path: str, headers: dict[str, str], count: int) -> float:
        environ = EnvironBuilder(path=path, headers=headers).get_environ()
        start = time.process_time()
        for _ in range(count):
            body = app(dict(environ), lambda status, headers, exc_info=None: None)
            b"".join(body)
            body.close()
        return (time.process_time() - start) / count * 1e6

    for piece, figure, path, headers, switch_off, count in cases:
        cpu_us(path, headers, count // 4)  # warm
        times: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(RUNS):
            for label, setup in (("with", nothing), ("without", switch_off)):
                setup()
                try:
                    times[label].append(cpu_us(path, headers, count))
                finally:
                    pagecache._cacheable = ours_cacheable
        row(
            piece,
            f"{figure}, CPU per request in-process",
            statistics.median(times["with"]),
            statistics.median(times["without"]),
            "µs",
            higher=False,
        )
    with app.app_context():
        db.engine.dispose()


# --- in-process figures --------------------------------------------------------------------


def same_events(ours: bytes, theirs: bytes) -> None:
    """Both feeds hold the same events with the same values (the fairness check)."""

    def events(body: bytes) -> list[dict]:
        return [
            {name: event.decoded(name) for name in event if name != "ORGANIZER"}
            | {"ORGANIZER": (str(event["ORGANIZER"]), event["ORGANIZER"].params.get("CN"))}
            for event in icalendar.Calendar.from_ical(body).walk("VEVENT")
        ]

    mine, library = events(ours), events(theirs)
    assert len(mine) == len(library) == FEED_SESSIONS, (len(mine), len(library))
    assert mine == library, "the icalendar build differs from build_feed"


def measure_ical(tmp: Path) -> None:
    database = f"sqlite:///{tmp / 'feed.sqlite'}"
    app = make_app(database, tmp)
    with app.app_context(), app.test_request_context():
        spec = feeds.all_public_feed(datetime.now(UTC))
        sessions = feeds.load_sessions(spec)
        name, description = str(spec.name), str(spec.description)
        ours = feeds.build_feed(name, description, sessions)
        same_events(ours, alt.icalendar_build_feed(name, description, sessions))
        alt.icalendar_build_feed(name, description, sessions)  # warm both
        builds = {"with": [], "without": []}
        for _ in range(RUNS + 2):
            for label, build in (
                ("with", feeds.build_feed),
                ("without", alt.icalendar_build_feed),
            ):
                start = time.perf_counter()
                build(name, description, sessions)
                builds[label].append((time.perf_counter() - start) * 1000)
        db.engine.dispose()
    row(
        "iCal writer",
        f"build {len(sessions)} events ({len(ours) // 1024} KiB)",
        statistics.median(builds["with"]),
        statistics.median(builds["without"]),
        "ms",
        higher=False,
    )


def seed_mail(app) -> None:
    """MAILS confirmed subscribers of a format (benchmarks/mail.py's seed, with a long
    non-ASCII title that must fold and four languages); publishing three dates queues a
    digest (text, HTML, .ics of three dates, List-Unsubscribe) for each."""
    from eventsapp.services import scheduling

    format_id, draft_ids = mail_seed(
        app,
        count=MAILS,
        title="Blick in die Polizei – Führung für Bürgerinnen und Bürger",
        languages=("de", "tr", "ar", "uk"),
    )
    with app.app_context(), app.test_request_context():
        format = db.session.get(Format, format_id)
        drafts = [db.session.get(Session, i) for i in draft_ids]
        scheduling.publish_sessions(format, drafts, now=datetime.now(UTC))
        db.session.commit()


NOTES: list[str] = []


def same_mail(ours: bytes, theirs: bytes, label: str) -> None:
    """Both mails carry the same headers, texts and calendar (the fairness check). A
    subject that differs only in its spaces is noted, not refused: that is a defect of the
    library's folding, reported with the figures."""

    def content(data: bytes) -> dict:
        message = email.message_from_bytes(data, policy=email.policy.default)
        parts = {
            part.get_content_type(): part.get_content().replace("\r\n", "\n").rstrip("\n")
            for part in message.walk()
            if not part.is_multipart()
        }
        names = ("From", "To", "Subject", "Message-ID", "List-Unsubscribe", "Content-Language")
        return {name: str(message[name]).strip() for name in names} | parts

    mine, library = content(ours), content(theirs)
    if mine["Subject"] != library["Subject"]:
        assert mine["Subject"].replace(" ", "") == library["Subject"].replace(" ", "")
        note = f"{label} loses spaces in a folded non-ASCII subject: {library['Subject']!r}"
        if not any(n.startswith(label) for n in NOTES):
            NOTES.append(note)
        library["Subject"] = mine["Subject"]
    assert mine == library, {k: (mine.get(k), library.get(k)) for k in mine | library}


def measure_mail(tmp: Path) -> None:
    from eventsapp.mail import mime
    from eventsapp.mail.delivery import claim_due, deliver_due, message_bytes

    port = free_port()
    sink = start_sink(port)
    try:
        app = make_app(
            f"sqlite:///{tmp / 'mail.sqlite'}",
            tmp,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=port,
            MAIL_USE_TLS=False,
        )
        seed_mail(app)
        ours = mime.render
        variants = (
            ("with", ours),
            ("EmailMessage", alt.email_message_render),
            ("Flask-Mail", alt.flask_mail_render),
        )
        with app.app_context(), app.test_request_context():
            samples = claim_due(now=datetime.now(UTC), limit=50)
            db.session.execute(
                update(OutboxMessage).values(status=OutboxStatus.PENDING, attempts=0)
            )
            db.session.commit()
            size = len(message_bytes(samples[0]))
            mine = [message_bytes(s) for s in samples]
            for label, render in variants[1:]:
                mime.render = render
                try:
                    theirs = [message_bytes(s) for s in samples]
                finally:
                    mime.render = ours
                for data, other in zip(mine, theirs, strict=True):
                    same_mail(data, other, label)
            rates: dict[str, list[float]] = {label: [] for label, _ in variants}
            for _ in range(RUNS):
                for label, render in variants:
                    mime.render = render
                    try:
                        start = time.perf_counter()
                        for _ in range(BUILD_BATCHES):
                            for sample in samples:
                                message_bytes(sample)
                        elapsed = time.perf_counter() - start
                    finally:
                        mime.render = ours
                    rates[label].append(BUILD_BATCHES * len(samples) / elapsed)
            built = {label: statistics.median(values) for label, values in rates.items()}
            delivered: dict[str, list[float]] = {label: [] for label, _ in variants}
            for _ in range(MAIL_RUNS):
                for label, render in variants:
                    db.session.execute(
                        update(OutboxMessage).values(status=OutboxStatus.PENDING, attempts=0)
                    )
                    db.session.commit()
                    mime.render = render
                    try:
                        start, sent = time.perf_counter(), 0
                        while True:
                            report = deliver_due(now=datetime.now(UTC))
                            sent += report.sent
                            if report.sent + report.failed + report.dead == 0:
                                break
                        delivered[label].append(sent / (time.perf_counter() - start))
                        assert sent == MAILS, (label, sent, report.errors[:3])
                    finally:
                        mime.render = ours
            db.engine.dispose()
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    figure = f"mails built ({size / 1024:.1f} KiB)"
    for label, _render in variants[1:]:
        row(f"MIME builder vs {label}", f"{figure}/s", built["with"], built[label], higher=True)
    for label, _render in variants[1:]:
        row(
            f"MIME builder vs {label}",
            "outbox delivery to SMTP sink, mails/s",
            statistics.median(delivered["with"]),
            statistics.median(delivered[label]),
            higher=True,
        )


def main() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        demo = f"sqlite:///{tmp / 'demo.sqlite'}"
        page_session = seed_demo(demo, tmp)
        seed_feed(f"sqlite:///{tmp / 'feed.sqlite'}", tmp)
        measure_web(tmp, demo, page_session)
        print("in-process", flush=True)
        measure_requests_in_process(tmp, demo, page_session)
        measure_ical(tmp)
        measure_mail(tmp)
    print()
    print(
        f"with / without each piece, same run ({time.monotonic() - started:.0f} s); served: "
        f"gunicorn 2 sync workers, SQLite, wrk -t2 -c16 unless noted, median of {RUNS} runs "
        f"of {SECONDS} s taking turns; "
        "(ratio to hello); gain = how much better with than without; keep at >= 15 %"
    )
    widths = [
        max(len(r[i]) for r in [("piece", "figure", "with", "without", "gain"), *ROWS])
        for i in range(5)
    ]
    header = ("piece", "figure", "with", "without", "gain")
    order = ("baseline", "page cache", "MIME", "iCal")
    ROWS.sort(key=lambda r: next(i for i, p in enumerate(order) if r[0].startswith(p)))
    for line in (header, *ROWS):
        print(
            "  "
            + "  ".join(
                value.ljust(width) if i < 2 else value.rjust(width)
                for i, (value, width) in enumerate(zip(line, widths, strict=True))
            )
        )
    for note in NOTES:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()
