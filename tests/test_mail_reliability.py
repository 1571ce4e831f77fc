"""Mail survives outages and crashes, is never sent twice, and cannot be abused to inject."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import delete, func, insert, select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.mail.outbox import enqueue_mail
from eventsapp.models import (
    OutboxMessage,
    OutboxStatus,
    SessionStatus,
    Subscription,
    SubscriptionSource,
    SubscriptionStatus,
)
from eventsapp.services import registrations as rules
from eventsapp.services import scheduling
from eventsapp.services.housekeeping import queue_reminders
from tests.conftest import SlowSink, free_port, make_app, postgres_app, start_smtp_server
from tests.factories import applicant, make_format, make_session, queue_plain_mail

ROOT = Path(__file__).resolve().parent.parent


def _bulk_rows(count: int, *, prefix: str = "person") -> None:
    queue_plain_mail(count, prefix=prefix)
    db.session.commit()


def _drain(at) -> int:
    sent = 0
    while True:
        report = deliver_due(now=at)
        sent += report.sent
        if report.sent + report.failed + report.dead == 0:
            return sent


def _statuses() -> dict:
    return dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )


def _subscribers(format, count: int) -> None:
    now = utcnow()
    db.session.execute(
        insert(Subscription),
        [
            {
                "format_id": format.id,
                "email": f"fan{n}@example.org",
                "language": "de",
                "source": SubscriptionSource.SELF,
                "status": SubscriptionStatus.CONFIRMED,
                "consent_text_version": "test",
                "created_at": now,
                "confirmed_at": now,
                "token_nonce": f"nonce-{n}",
                "token_hash": f"hash-{n}",
            }
            for n in range(count)
        ],
    )


def test_an_outage_loses_nothing_and_sends_nothing_twice(tmp_path):
    port = free_port()  # the mail server is down
    app = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    with app.app_context():
        db.create_all()
        format = make_format()
        _subscribers(format, 1000)
        drafts = [make_session(format, status=SessionStatus.DRAFT) for _ in range(2)]
        scheduling.publish_sessions(format, drafts, now=utcnow())  # 1,000 digests due
        db.session.commit()
        title = format.title
        now = utcnow()
        while deliver_due(now=now).failed:
            pass
        assert _statuses() == {OutboxStatus.PENDING: 1000}
        server = start_smtp_server(port)  # it comes back
        try:
            assert _drain(now + timedelta(hours=1)) == 1000
        finally:
            server.controller.stop()
        assert _statuses() == {OutboxStatus.SENT: 1000}
        db.session.remove()
        db.engine.dispose()
    ids = Counter(m.message["Message-ID"] for m in server.sink.messages)
    assert len(ids) == 1000 and set(ids.values()) == {1}
    assert len({m.rcpt_tos[0] for m in server.sink.messages}) == 1000
    assert {m.message["Subject"] for m in server.sink.messages} == {f"Neue Termine: {title}"}


def test_sent_mail_is_emptied_after_the_retention_period(app):
    from eventsapp.services.housekeeping import forget_old_mail

    with app.app_context():
        rules.register_for_session(make_session(), applicant(1), now=utcnow())
        db.session.commit()
        deliver_due(now=utcnow())
        assert forget_old_mail(now=utcnow() + timedelta(days=29), retention_days=30) == 0
        assert forget_old_mail(now=utcnow() + timedelta(days=31), retention_days=30) == 1
        db.session.commit()
        row = db.session.execute(select(OutboxMessage)).scalar_one()
        assert (row.body_text, row.body_html, row.ics) == ("", None, None)
        assert (row.recipient, row.subject) == ("", "")
        assert row.status == OutboxStatus.SENT and row.message_id and row.purged_at


def test_a_worker_killed_mid_batch_is_replaced_after_the_lease(tmp_path):
    from aiosmtpd.controller import Controller

    sink = SlowSink(delay=0.05)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    database = f"sqlite:///{tmp_path / 'crash.sqlite'}"
    app = make_app(
        tmp_path,
        database,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        OUTBOX_LEASE_SECONDS=3,
        OUTBOX_BATCH_SIZE=40,
    )
    try:
        with app.app_context():
            db.create_all()
            _bulk_rows(120)
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "SECRET_KEY": "crash-test",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(port),
            "OUTBOX_LEASE_SECONDS": "3",
            "OUTBOX_BATCH_SIZE": "40",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "work", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(sink.message_ids) < 15 and time.monotonic() < deadline:
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)  # kill -9, mid-batch
        worker.wait(timeout=10)
        delivered_before = len(sink.message_ids)
        assert 15 <= delivered_before < 120

        with app.app_context():
            claimed = _statuses().get(OutboxStatus.SENDING, 0)
            assert 0 < claimed <= 40  # only the killed worker's batch is in limbo
            _drain(utcnow() + timedelta(seconds=5))  # after the lease ran out
            assert _statuses() == {OutboxStatus.SENT: 120}
            expected = set(db.session.execute(select(OutboxMessage.message_id)).scalars())
    finally:
        controller.stop()
    counts = Counter(sink.message_ids)
    assert set(counts) == expected  # everything arrived, with the row's own Message-ID
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= 1  # at most the one mail that was on the wire when the worker died


def test_two_workers_on_postgresql_claim_disjoint_rows(tmp_path, postgres_schema, smtp_server):
    app = postgres_app(tmp_path, postgres_schema, OUTBOX_BATCH_SIZE=50, **smtp_server.config())
    with app.app_context():
        db.create_all()
        _bulk_rows(2000)
    errors: list[BaseException] = []
    sent_by: list[int] = [0, 0]

    def work(index: int) -> None:
        try:
            with app.app_context():
                sent_by[index] = _drain(utcnow())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert sum(sent_by) == 2000 and min(sent_by) > 0  # both worked, no row twice
    ids = Counter(m.message["Message-ID"] for m in smtp_server.sink.messages)
    assert len(ids) == 2000 and set(ids.values()) == {1}
    with app.app_context():
        assert _statuses() == {OutboxStatus.SENT: 2000}
        db.session.remove()
        db.engine.dispose()


def test_injected_headers_and_recipients_never_reach_smtp(mail_app, smtp_server):
    hostile = [
        ("a@b.de, c@d.de", "Hallo"),
        ("x@example.org\r\nBcc: evil@example.net", "Hallo"),
        ("ok@example.org", "Betreff\r\nBcc: evil@example.net"),
        ("ok2@example.org", "Betreff\nX-Evil: 1"),
    ]
    with mail_app.app_context():
        context = _link_context()
        db.session.flush()
        db.session.execute(delete(OutboxMessage))  # only the hostile rows below
        for n, (recipient, subject) in enumerate(hostile):
            enqueue_mail(
                dedupe_key=f"hostile:{n}",
                recipient=recipient,
                language="de",
                template="registration_link",
                subject=subject,
                context=context,
                now=utcnow(),
            )
        db.session.commit()
        report = deliver_due(now=utcnow())
        assert (report.sent, report.dead) == (2, 2)
        assert _statuses() == {OutboxStatus.SENT: 2, OutboxStatus.DEAD: 2}
    rcpts = [r for m in smtp_server.sink.messages for r in m.rcpt_tos]
    assert sorted(rcpts) == ["ok2@example.org", "ok@example.org"]
    for received in smtp_server.sink.messages:
        assert received.message["Bcc"] is None and received.message["X-Evil"] is None
        assert "\n" not in received.message["Subject"]


def _link_context() -> dict:
    """A registration to render a mail with."""
    session = make_session()
    registration = rules.register_for_session(session, applicant("ctx"), now=utcnow())
    db.session.flush()
    from eventsapp.mail.notifications import mail_context

    return mail_context(registration)


def test_registration_mails_carry_calendar_invitations(mail_app, smtp_server):
    with mail_app.app_context():
        session = make_session(capacity=1)
        holder = rules.register_for_session(session, applicant("holder"), now=utcnow())
        rules.register_for_session(session, applicant("waiting"), now=utcnow())
        db.session.commit()
        _drain(utcnow())  # the worker sends the confirmation before the session moves
        scheduling.reschedule_session(
            session,
            local_start=(session.local_start + timedelta(hours=1)).replace(tzinfo=None),
            duration=timedelta(hours=2),
            now=utcnow(),
        )
        db.session.commit()
        _drain(utcnow())  # the change goes out while the holder still holds the seat
        rules.cancel_registration(holder, now=utcnow())
        db.session.commit()
        _drain(utcnow())
        session_id, sequence = session.id, session.sequence

    def invite(message):
        """The iMIP part, next to text and HTML; the same calendar is attached as a file."""
        if message.get_content_type() == "multipart/alternative":
            return None  # text and HTML only, nothing attached
        (body,) = [p for p in message.iter_parts() if p.get_content_type().startswith("multi")]
        parts = [p for p in body.iter_parts() if p.get_content_type() == "text/calendar"]
        files = [p for p in message.iter_attachments() if p.get_filename() == "einladung.ics"]
        assert len(parts) == len(files) <= 1
        if not parts:
            return None
        assert files[0].get_content_type() == "application/ics"
        assert files[0].get_content().decode() == parts[0].get_content()
        return parts[0]

    to_holder = smtp_server.sink.to("personholder@example.org")
    confirmed, moved, cancelled = to_holder
    part = invite(confirmed)
    assert part.get_param("method") == "REQUEST"
    event = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
    assert str(event["UID"]) == f"session-{session_id}@eventsapp.test"
    assert str(event["ATTENDEE"]) == "mailto:personholder@example.org"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    moved_event = icalendar.Calendar.from_ical(invite(moved).get_content()).walk("VEVENT")[0]
    assert int(moved_event["SEQUENCE"]) == sequence and sequence > int(event["SEQUENCE"])
    assert invite(cancelled).get_param("method") == "CANCEL"
    waiting = smtp_server.sink.to("personwaiting@example.org")
    assert invite(waiting[0]) is None  # the waitlist mail invites to nothing yet
    assert invite(waiting[-1]).get_param("method") == "REQUEST"  # promoted: now invited


def test_reminders_go_out_once_per_offset(app):
    with app.app_context():
        now = utcnow()
        session = make_session(
            make_format(reminder_offsets="2880,180"), starts_at=now + timedelta(days=1, hours=12)
        )
        registration = rules.register_for_session(session, applicant(1), now=now)
        rules.register_for_session(session, applicant(2), now=now)
        cancelled = rules.register_for_session(session, applicant(3), now=now)
        rules.cancel_registration(cancelled, now=now)
        db.session.commit()
        assert queue_reminders(now=now) == 2  # two-day window: the two confirmed registrants
        assert queue_reminders(now=now) == 2  # a second run queues again, deduplicated:
        db.session.commit()
        keys = (
            db.session.execute(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.like("%:reminder:%")
                )
            )
            .scalars()
            .all()
        )
        assert len(keys) == 2
        later = session.starts_at - timedelta(hours=2)
        queue_reminders(now=later)  # the three-hour reminder
        db.session.commit()
        keys = (
            db.session.execute(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.like(f"registration:{registration.id}:reminder:%")
                )
            )
            .scalars()
            .all()
        )
        assert sorted(k.split(":")[3] for k in keys) == ["180", "2880"]


@pytest.mark.parametrize("title", ["Titel\r\nBcc: evil@example.net", "Titel\nX: y"])
def test_the_format_form_refuses_line_breaks_in_titles(app, title):
    from eventsapp.models import OrganisationKind, Role
    from tests.conftest import csrf_token, login
    from tests.factories import make_organisation, make_user

    with app.app_context():
        host = make_organisation(OrganisationKind.HOST)
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        db.session.commit()
        host_id = host.id
    client = app.test_client()
    login(client, "kim@polizei.example")
    response = client.post(
        "/organiser/formats/new",
        data={
            "title": title,
            "host_organisation": host_id,
            "duration_minutes": "120",
            "capacity": "20",
            "visibility": "public",
            "feedback_delay_hours": "3",
            "csrf_token": csrf_token(client, "/organiser/formats/new"),
        },
    )
    assert response.status_code == 422
    assert "Bitte verwenden Sie nur Buchstaben" in response.get_data(as_text=True)


def test_two_workers_running_reminders_at_once_queue_each_reminder_once(any_app):
    with any_app.app_context():
        now = utcnow()
        session = make_session(starts_at=now + timedelta(days=1, hours=12))
        for n in range(5):
            rules.register_for_session(session, applicant(n), now=now)
        db.session.execute(delete(OutboxMessage))
        db.session.commit()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def job() -> None:
        try:
            with any_app.app_context():
                start.wait()
                queue_reminders(now=utcnow())
                db.session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with any_app.app_context():
        keys = db.session.execute(select(OutboxMessage.dedupe_key)).scalars().all()
        assert len(keys) == 5 and all(":reminder:2880:" in k for k in keys)
