"""Two gunicorn instances and two workers on one PostgreSQL: 200 people register at once
over HTTP for the last 5 seats. Exactly 5 get a seat, 195 wait, 200 mails arrive once each."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.models import OutboxMessage, OutboxStatus, Registration
from eventsapp.services import registrations as rules
from tests.conftest import POSTGRES_URL, free_port, make_app
from tests.factories import applicant, make_session

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
PEOPLE = 200
SEATS_LEFT = 5


def _serve(stack: ExitStack, command: list[str], env: dict, port: int | None = None) -> None:
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    stack.callback(lambda: (process.terminate(), process.wait(timeout=30)))
    if port is None:
        return
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, command
            time.sleep(0.2)


def _person(base: str, session_id: int, n: int, start: threading.Barrier, results: list):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    page = opener.open(f"{base}/sessions/{session_id}", timeout=60).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {
            "name": f"Person {n}",
            "email": f"racer{n}@example.org",
            "language": "de",
            "consent": "y",
            "csrf_token": token,
        }
    ).encode()
    start.wait()
    try:
        opener.open(f"{base}/sessions/{session_id}/register", data=body, timeout=120)
        results[n] = 200
    except urllib.error.HTTPError as error:
        results[n] = error.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_two_instances_and_two_workers_sell_the_last_seats_once(
    tmp_path, postgres_schema, smtp_server
):
    database = f"{POSTGRES_URL}?options=-csearch_path%3D{postgres_schema}"
    app = make_app(tmp_path, database)
    with app.app_context():
        db.create_all()
        session = make_session(capacity=20)
        for n in range(20 - SEATS_LEFT):
            rules.register_for_session(session, applicant(f"early{n}"), now=utcnow())
        db.session.commit()
        session_id = session.id
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "SECRET_KEY": "cluster-test",
        "RATELIMIT_ENABLED": "false",
        "EMAIL_CHECK_DELIVERABILITY": "false",  # made-up addresses; no DNS in tests
        "MAIL_SERVER": smtp_server.host,
        "MAIL_PORT": str(smtp_server.port),
        "EVENTSAPP_BASE_URL": "http://eventsapp.test",
        "SESSION_COOKIE_SECURE": "false",
    }
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for port in ports:
            _serve(
                stack,
                [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                env,
                port,
            )
        for _ in range(2):
            _serve(
                stack,
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.2"],
                env,
            )
        start = threading.Barrier(PEOPLE)
        results: list = [None] * PEOPLE
        threads = [
            threading.Thread(
                target=_person,
                args=(f"http://127.0.0.1:{ports[n % 2]}", session_id, n, start, results),
            )
            for n in range(PEOPLE)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        assert Counter(results) == {303: PEOPLE}, Counter(results)

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            racers = [m for m in smtp_server.sink.messages if m.rcpt_tos[0].startswith("racer")]
            if len(racers) >= PEOPLE:
                break
            time.sleep(0.5)
        time.sleep(2)  # anything sent twice would have arrived by now
    racers = [m for m in smtp_server.sink.messages if m.rcpt_tos[0].startswith("racer")]
    assert len(racers) == PEOPLE
    assert len({m.rcpt_tos[0] for m in racers}) == PEOPLE
    assert len({m.message["Message-ID"] for m in racers}) == PEOPLE
    subjects = Counter(m.message["Subject"].split(":")[0] for m in racers)
    assert subjects == {"Anmeldung bestätigt": SEATS_LEFT, "Warteliste": PEOPLE - SEATS_LEFT}
    with app.app_context():
        counts = dict(
            db.session.execute(
                select(Registration.status, func.count())
                .where(Registration.email.like("racer%"))
                .group_by(Registration.status)
            ).all()
        )
        assert counts == {"confirmed": SEATS_LEFT, "waitlisted": PEOPLE - SEATS_LEFT}
        waiting = db.session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status != OutboxStatus.SENT)
        ).scalar_one()
        assert waiting == 0
