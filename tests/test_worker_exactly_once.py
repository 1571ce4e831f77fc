"""Worker processes deliver each mail exactly once, and SIGTERM stops one cleanly.

These run real `flask` processes against a real SMTP server (aiosmtpd) that takes its time
per mail, with a lease far shorter than a batch of mail takes to send: the case in which a
lease set once per batch let a second worker send the tail of the first one's batch again.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import claim_due, deliver_due, record
from eventsapp.models import OutboxMessage, OutboxStatus
from tests.conftest import POSTGRES_URL, SlowSink, free_port, make_app, sqlite_url
from tests.factories import queue_plain_mail

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


@contextmanager
def slow_smtp(delay: float) -> Iterator[tuple[SlowSink, int]]:
    sink = SlowSink(delay)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> Iterator[tuple[str, Flask]]:
    """A database URL the worker processes can open, and an app on the same database."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
    else:
        schema = request.getfixturevalue("postgres_schema")
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    app = make_app(tmp_path, url)
    with app.app_context():
        db.create_all()
    yield url, app


def _queue(app: Flask, count: int) -> set[str]:
    """`count` due mails; returns their Message-IDs."""
    with app.app_context():
        expected = queue_plain_mail(count)
        db.session.commit()
    return expected


def _statuses(app: Flask) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
        db.session.remove()
    return {str(status): count for status, count in rows}


def _env(url: str, port: int, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "exactly-once-test",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        **settings,
    }


def _start(stack: ExitStack, args: list[str], env: dict, log: Path) -> subprocess.Popen:
    output = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(
        [*FLASK, *args], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
    )

    def stop() -> None:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)

    stack.callback(stop)
    return process


def _sent_reported(log: Path) -> int:
    """The mails a worker reported sent ("outbox: N sent, …" lines)."""
    return sum(int(n) for n in re.findall(r"outbox: (\d+) sent", log.read_text()))


def test_two_worker_processes_deliver_each_mail_exactly_once(database, tmp_path):
    url, app = database
    expected = _queue(app, 200)
    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
    # 50 mails a batch at 0.1 s each take 5 s to send; the lease is 2 s.
    with slow_smtp(delay=0.1) as (sink, port), ExitStack() as stack:
        env = _env(url, port, OUTBOX_LEASE_SECONDS="2", OUTBOX_BATCH_SIZE="50")
        command = ["outbox", "work", "--interval", "0.2"]
        workers = [_start(stack, command, env, logs[0])]
        deadline = time.monotonic() + 90
        while len(sink.message_ids) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)  # the second starts while the first is into its batch
        workers.append(_start(stack, command, env, logs[1]))
        while _statuses(app) != {"sent": 200} and time.monotonic() < deadline:
            assert all(w.poll() is None for w in workers), [log.read_text() for log in logs]
            time.sleep(0.25)
        time.sleep(3)  # longer than a lease: a mail taken over late would arrive by now
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        returncodes = [worker.wait(timeout=15) for worker in workers]
        received = list(sink.message_ids)
    counts = Counter(received)
    twice = {message_id: n for message_id, n in counts.items() if n > 1}
    assert twice == {}, f"{len(twice)} mails arrived more than once"
    assert set(counts) == expected
    assert _statuses(app) == {"sent": 200}
    assert returncodes == [0, 0]
    reported = [_sent_reported(log) for log in logs]
    assert sum(reported) == 200 and min(reported) > 0, reported  # both sent, none counted twice


def test_sigterm_mid_batch_stops_the_worker_and_loses_nothing(database, tmp_path):
    url, app = database
    expected = _queue(app, 40)
    with slow_smtp(delay=0.1) as (sink, port), ExitStack() as stack:
        env = _env(url, port)  # the default lease (300 s): a leftover claim would be stuck
        log = tmp_path / "worker.log"
        worker = _start(stack, ["worker", "--interval", "0.2"], env, log)
        deadline = time.monotonic() + 60
        while len(sink.message_ids) < 5 and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.02)
        asked = time.monotonic()
        worker.send_signal(signal.SIGTERM)  # mid-batch: 40 mails are due, 50 a batch
        assert worker.wait(timeout=15) == 0, log.read_text()
        assert time.monotonic() - asked < 3  # the mail in hand takes 0.1 s
        assert "worker stopped" in log.read_text()
        delivered = Counter(sink.message_ids)
        assert 5 <= len(delivered) < 40 and set(delivered.values()) == {1}

        with app.app_context():
            rows = db.session.execute(select(OutboxMessage)).scalars().all()
            assert not [r for r in rows if r.status == OutboxStatus.SENDING]
            sent = {r.message_id for r in rows if r.status == OutboxStatus.SENT}
            assert sent == set(delivered)
            waiting = [r for r in rows if r.status == OutboxStatus.PENDING]
            assert len(waiting) == 40 - len(sent)
            now = utcnow()
            for row in waiting:  # due at once, no attempt counted, nobody's claim
                assert row.attempts == 0 and row.next_attempt_at <= now
                assert row.lease_until is None and row.claim_token is None
            db.session.remove()

        later = subprocess.run(
            [*FLASK, "outbox", "send"], cwd=ROOT, env=env, capture_output=True, timeout=120
        )
        assert later.returncode == 0, later.stderr.decode()
        assert f"outbox: {len(waiting)} sent" in later.stdout.decode()
        received = list(sink.message_ids)
    assert Counter(received) == dict.fromkeys(expected, 1)
    assert _statuses(app) == {"sent": 40}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_idle_worker_stops_at_once_on_sigterm_and_ctrl_c(tmp_path, signum):
    app = make_app(tmp_path, sqlite_url(tmp_path))
    with app.app_context():
        db.create_all()
    env = _env(sqlite_url(tmp_path), free_port())  # nothing is due: no mail server needed
    process = subprocess.Popen(
        [*FLASK, "outbox", "work", "--interval", "30"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    with process:
        assert process.stdout.readline().startswith(b"outbox worker polling every 30s")
        time.sleep(0.5)  # into its first pause between polls
        asked = time.monotonic()
        process.send_signal(signum)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - asked < 2  # not at the end of a 30 s pause
        assert process.stdout.read().strip() == b"outbox worker stopped"


def test_an_outcome_is_recorded_only_under_the_claim_held(mail_app, smtp_server):
    """A worker that stalled past its lease and lost the mail to another records nothing."""
    with mail_app.app_context():
        [message_id] = _queue(mail_app, 1)
        now = utcnow()
        [stale] = claim_due(now=now, limit=1)  # worker A claims it, then stalls
        lease = timedelta(seconds=mail_app.config["OUTBOX_LEASE_SECONDS"] + 1)
        assert deliver_due(now=now + lease).sent == 1  # worker B takes it over and sends it
        assert not record(stale, status=OutboxStatus.PENDING, last_error="late")  # A, late
        db.session.commit()
        row = db.session.execute(select(OutboxMessage)).scalar_one()
        assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 2, "")
        assert row.sent_at is not None and row.claim_token is None
    assert [m.message["Message-ID"] for m in smtp_server.sink.messages] == [message_id]


def test_a_stop_between_mails_leaves_no_claim_behind(mail_app, smtp_server):
    with mail_app.app_context():
        _queue(mail_app, 10)
        report = deliver_due(now=utcnow(), stop=lambda: len(smtp_server.sink.messages) >= 3)
        assert report.sent == 3
        assert _statuses(mail_app) == {"sent": 3, "pending": 7}
        waiting = db.session.execute(
            select(OutboxMessage.attempts).where(OutboxMessage.status == OutboxStatus.PENDING)
        ).scalars()
        assert set(waiting) == {0}
