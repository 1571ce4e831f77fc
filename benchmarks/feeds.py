"""Feed performance, measured in one run on this machine.

1. Cold build of a 1,000-session feed: eventsapp's builder against a naive icalendar build of
   the same events (one icalendar Event per session, add_missing_timezones, to_ical).
2. Served by gunicorn (2 sync workers, wrk with 16 connections on loopback): a bare Flask
   "hello", the cached feed (200 with the full body) and a revalidation answered 304.

Run with `make bench-feeds` (installs wrk from Debian if missing), or
`.venv/bin/python -m benchmarks.feeds`. Prints a table; nothing is asserted.
"""

from __future__ import annotations

import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar, Event

from benchmarks._serve import APP_ENV, gunicorn, median_wrk, wrk
from eventsapp import create_app
from eventsapp.database import db
from eventsapp.models import Format, Organisation, OrganisationKind, Session, SessionStatus
from eventsapp.services import feeds
from eventsapp.urls import base_host, external_url

SESSIONS = 1000
BASE_URL = "https://termine.example.org"


def seed(app) -> None:
    with app.app_context():
        db.create_all()
        host = Organisation(
            slug="polizei-dortmund",
            name="Polizeipräsidium Dortmund",
            kind=OrganisationKind.HOST,
            contact_email="dialog@polizei.example",
            venue_name="Polizeipräsidium Dortmund",
            venue_address="Markgrafenstraße 102, 44139 Dortmund",
        )
        format = Format(
            slug="blick-in-die-polizei",
            title="Blick in die Polizei",
            summary="Bürgerinnen, Bürger und Mitglieder der Partnerorganisationen "
            "besuchen das Polizeipräsidium.",
            host_organisation=host,
            duration_minutes=150,
            capacity=25,
        )
        first = datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0)
        db.session.add_all([host, format])
        for n in range(SESSIONS):
            starts = first + timedelta(days=n + 1)
            db.session.add(
                Session(
                    format=format,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=150),
                    timezone="Europe/Berlin",
                    venue_name=host.venue_name,
                    venue_address=host.venue_address,
                    host_organisation=host,
                    capacity=25,
                    status=SessionStatus.PUBLISHED,
                    sequence=1,
                    note="Bitte Ausweis mitbringen.",
                    interpreting="Dolmetschen ins Türkische und Arabische",
                )
            )
        db.session.commit()


def naive_build(sessions: list[Session]) -> bytes:
    """What the icalendar documentation leads to: one Event object per session."""
    calendar = Calendar()
    calendar.add("prodid", "-//naive//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Dialog-Termine")
    for session in sessions:
        event = Event()
        url = external_url("public.session_detail", session_id=session.id)
        event.add("uid", f"session-{session.id}@{base_host()}")
        event.add("dtstamp", session.updated_at)
        event.add("last-modified", session.updated_at)
        event.add("created", session.created_at)
        event.add("sequence", session.sequence)
        event.add("dtstart", session.local_start)
        event.add("dtend", session.local_end)
        event.add("summary", session.format.title)
        event.add("location", f"{session.venue_name}, {session.venue_address}")
        event.add(
            "description",
            "\n\n".join([session.format.summary, session.note, session.interpreting, url]),
        )
        event.add("url", url)
        event.add(
            "organizer",
            f"mailto:{session.host_organisation.contact_email}",
            parameters={"CN": session.host_organisation.name},
        )
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        overrides = {
            "SQLALCHEMY_DATABASE_URI": database,
            "EVENTSAPP_BASE_URL": BASE_URL,
            **APP_ENV,
            "INSTANCE_PATH": Path(tmp) / "instance",
        }
        app = create_app("Config", **overrides)
        seed(app)
        with app.app_context(), app.test_request_context():
            spec = feeds.all_public_feed(datetime.now(UTC))
            sessions = feeds.load_sessions(spec)
            assert len(sessions) == SESSIONS
            ours = best_of(7, lambda: feeds.build_feed(spec.name, spec.description, sessions))
            naive = best_of(7, lambda: naive_build(sessions))

            def cold_with_query():
                feeds.feed_cache().clear()
                feeds.feed_cache().get(spec)

            cold_total = best_of(7, cold_with_query)
            size = len(feeds.build_feed(spec.name, spec.description, sessions))

        env = {
            "DATABASE_URL": database,
            "SECRET_KEY": "benchmark",
            "EVENTSAPP_BASE_URL": BASE_URL,
        }
        with gunicorn("benchmarks.hello_app:app", env) as hello_base:
            wrk(hello_base + "/", seconds=2)  # warm up
            hello = median_wrk(hello_base + "/")
        with gunicorn("wsgi:app", env) as base:
            url = base + "/calendar.ics"
            gzip = {"Accept-Encoding": "gzip"}
            request = urllib.request.Request(url, headers=gzip)
            etag = urllib.request.urlopen(request).headers["ETag"]
            wrk(url, seconds=2, headers=gzip)  # warm up both workers' caches
            cached = median_wrk(url, headers=gzip)
            revalidated = median_wrk(url, headers={**gzip, "If-None-Match": etag})
            plain = median_wrk(url)

    print(f"feed of {SESSIONS} sessions, {size / 1024:.0f} KiB")
    print()
    print("cold build (best of 7)                     ms     vs naive")
    print(f"  naive icalendar (Event objects)      {naive * 1000:8.1f}      1.0x")
    print(f"  eventsapp build_feed                 {ours * 1000:8.1f}  {naive / ours:8.1f}x")
    print(
        f"  eventsapp cold, with fingerprint+load{cold_total * 1000:8.1f}  "
        f"{naive / cold_total:8.1f}x"
    )
    print()
    print("served by gunicorn (2 sync workers), wrk -t2 -c16, median of 3 runs of 5 s")
    print(f"  {'':<38}{'req/s':>9}{'p50 ms':>10}{'p99 ms':>9}{'vs hello':>9}")
    rows = (
        ("bare Flask hello", hello),
        ("/calendar.ics cached, 200 (gzip)", cached),
        ("/calendar.ics If-None-Match, 304", revalidated),
        ("/calendar.ics cached, 200 (identity)", plain),
    )
    for label, result in rows:
        print(
            f"  {label:<38}{result.requests_per_second:9.0f}{result.p50_ms:10.2f}"
            f"{result.p99_ms:9.2f}{result.requests_per_second / hello.requests_per_second:9.2f}"
        )
    for result in (cached, revalidated):
        if result.non_2xx:
            print(f"  warning: {result.non_2xx} responses were not 2xx/3xx", file=sys.stderr)


if __name__ == "__main__":
    main()
