"""Mail goes through the outbox and arrives once, at a real SMTP server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import claim_due, deliver_due, render_deferred
from eventsapp.models import OutboxMessage, OutboxStatus
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import free_port, make_app, start_smtp_server
from tests.factories import applicant, make_session


def test_cancel_and_promotion_mails_arrive_once_even_if_sent_twice(mail_app, smtp_server):
    with mail_app.app_context():
        session = make_session(capacity=1)
        now = utcnow()
        holder = rules.register_for_session(session, applicant("holder"), now=now)
        waiting = rules.register_for_session(session, applicant("waiting"), now=now)
        db.session.commit()
        rules.cancel_registration(holder, now=now)
        db.session.commit()
        waiting_link = manage_token(waiting)
        title = session.format.title

    runner = mail_app.test_cli_runner()
    first = runner.invoke(args=["outbox", "send"])
    second = runner.invoke(args=["outbox", "send"])
    # The holder's confirmation is not sent: the seat was given up before it went out.
    assert first.exit_code == 0 and "3 sent" in first.output
    assert second.exit_code == 0 and "0 sent" in second.output

    to_holder = smtp_server.sink.to("personholder@example.org")
    to_waiting = smtp_server.sink.to("personwaiting@example.org")
    assert [m["Subject"] for m in to_holder] == ["Stornierung bestätigt: " + title]
    assert [m["Subject"] for m in to_waiting] == [
        "Warteliste: " + title,
        "Ein Platz ist frei geworden: " + title,
    ]
    promoted = to_waiting[1]
    text = promoted.get_body(("plain",)).get_content()
    html = promoted.get_body(("html",)).get_content()
    assert f"http://eventsapp.test/registrations/{waiting_link}" in text
    assert f"http://eventsapp.test/registrations/{waiting_link}" in html
    message_ids = [m.message["Message-ID"] for m in smtp_server.sink.messages]
    assert len(message_ids) == len(set(message_ids)) == 3


def test_message_id_is_the_outbox_rows_own(mail_app, smtp_server):
    with mail_app.app_context():
        rules.register_for_session(make_session(), applicant(1), now=utcnow())
        db.session.commit()
        deliver_due(now=utcnow())
        row = db.session.execute(select(OutboxMessage)).scalar_one()
        assert row.status == OutboxStatus.SENT
        assert smtp_server.sink.messages[0].message["Message-ID"] == row.message_id


def test_smtp_outage_keeps_mail_and_delivers_it_later(tmp_path):
    port = free_port()  # the mail server is down: nobody listens here yet
    app = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    with app.app_context():
        db.create_all()
        rules.register_for_session(make_session(), applicant(1), now=utcnow())
        db.session.commit()
        now = utcnow()
        report = deliver_due(now=now)
        row = db.session.execute(select(OutboxMessage)).scalar_one()
        assert (report.sent, report.failed) == (0, 1)
        assert row.status == OutboxStatus.PENDING and row.attempts == 1
        assert row.next_attempt_at > now and row.last_error
        assert deliver_due(now=now).sent == 0  # not due again before its backoff

        server = start_smtp_server(port)  # it comes back
        try:
            report = deliver_due(now=row.next_attempt_at + timedelta(seconds=1))
        finally:
            server.controller.stop()
        assert report.sent == 1
        assert [m.message["Message-ID"] for m in server.sink.messages] == [row.message_id]
        db.session.remove()
        db.engine.dispose()


def test_a_crashed_workers_claim_is_taken_over_after_the_lease(mail_app, smtp_server):
    with mail_app.app_context():
        rules.register_for_session(make_session(), applicant(1), now=utcnow())
        db.session.commit()
        now = utcnow()
        render_deferred(now=now, limit=10)
        claimed = claim_due(now=now, limit=10)  # this worker then dies without sending
        assert len(claimed) == 1
        assert deliver_due(now=now).sent == 0  # still leased
        lease = mail_app.config["OUTBOX_LEASE_SECONDS"]
        assert deliver_due(now=now + timedelta(seconds=lease + 1)).sent == 1
        assert len(smtp_server.sink.messages) == 1


def test_without_mail_server_mail_is_written_to_files(ctx):
    rules.register_for_session(make_session(), applicant(1), now=utcnow())
    db.session.commit()
    assert deliver_due(now=utcnow()).sent == 1
    files = list(Path(ctx.config["MAIL_FILE_DIR"]).glob("*.eml"))
    assert len(files) == 1
    content = files[0].read_text()
    assert "To: person1@example.org" in content
    assert "Anmeldung best" in content or "=?utf-8?" in content


def test_dead_letters_are_shown_to_admins_and_can_be_retried(app):
    from eventsapp.models import Role
    from tests.conftest import csrf_token, login
    from tests.factories import make_user

    with app.app_context():
        make_user(Role.ADMIN, email="admin@example.org")
        rules.register_for_session(make_session(), applicant(1), now=utcnow())
        db.session.commit()
        row = db.session.execute(select(OutboxMessage)).scalar_one()
        row.status, row.attempts, row.last_error = OutboxStatus.DEAD, 8, "SMTPDataError: 554"
        db.session.commit()
    client = app.test_client()
    login(client, "admin@example.org")
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "pe***@ex***.org" in page and "SMTPDataError: 554" in page
    assert "person1@example.org" not in page  # masked: recognisable, not harvestable
    response = client.post(
        "/admin/outbox/retry", data={"csrf_token": csrf_token(client, "/admin/outbox")}
    )
    assert response.status_code == 303
    with app.app_context():
        row = db.session.execute(select(OutboxMessage)).scalar_one()
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
        assert deliver_due(now=utcnow()).sent == 1
