"""`flask sessions …` scripts what organisers do, through the same services and mails."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.models import Format, OutboxMessage, Publication, Session
from eventsapp.services import registrations as rules
from tests.factories import applicant, make_format, make_session


def _planned_format(app) -> None:
    with app.app_context():
        make_format(
            slug="blick",
            title="Blick in die Polizei",
            rrule="FREQ=MONTHLY;BYDAY=2TU",
            start_time=time(18, 0),
            series_start=utcnow().date(),
            duration_minutes=120,
            capacity=2,
        )
        db.session.commit()


def test_generate_publish_list_move_and_cancel(app, runner):
    _planned_format(app)
    until = (utcnow() + timedelta(days=100)).date().isoformat()
    result = runner.invoke(args=["sessions", "generate", "--format", "blick", "--until", until])
    assert result.exit_code == 0, result.output
    created = int(result.output.split()[0])
    assert 3 <= created <= 4
    again = runner.invoke(args=["sessions", "generate", "--format", "blick", "--until", until])
    assert again.output.startswith("0 draft sessions")

    result = runner.invoke(args=["sessions", "publish", "--format", "blick"])
    assert result.exit_code == 0 and f"{created} sessions" in result.output
    with app.app_context():
        assert db.session.execute(select(Publication)).scalar_one()

    listed = json.loads(
        runner.invoke(args=["sessions", "list", "--format", "blick", "--json"]).output
    )
    assert len(listed) == created
    first = listed[0]
    assert first["status"] == "published" and first["starts_at"].endswith(("+01:00", "+02:00"))
    assert first["starts_at"][11:16] == "18:00"

    with app.app_context():
        session = db.session.get(Session, first["id"])
        rules.register_for_session(session, applicant(1), now=utcnow())
        db.session.commit()
    new_day = date.fromisoformat(first["starts_at"][:10]) + timedelta(days=1)
    result = runner.invoke(
        args=["sessions", "move", str(first["id"]), "--start", f"{new_day}T19:00"]
    )
    assert result.exit_code == 0, result.output
    assert f"{new_day}T19:00:00" in result.output
    result = runner.invoke(args=["sessions", "cancel", str(first["id"]), "--reason", "Umbau"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        keys = set(db.session.execute(select(OutboxMessage.dedupe_key)).scalars())
        assert any(":session-changed:" in k for k in keys)
        assert any(k.endswith(":session-cancelled") for k in keys)


def test_cli_errors_are_clear_and_change_nothing(app, runner):
    _planned_format(app)
    cases = [
        (["sessions", "generate", "--format", "nope", "--until", "2027-01-01"], "no format"),
        (["sessions", "move", "999", "--start", "2027-01-01T18:00"], "no session"),
        (["sessions", "cancel", "999", "--reason", "x"], "no session"),
        (["sessions", "generate", "--format", "blick", "--until", "2045-12-31"], "mehr als 200"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    with app.app_context():
        assert db.session.execute(select(Session)).first() is None
        assert db.session.execute(select(Format)).scalar_one().slug == "blick"


def test_the_cli_refuses_a_time_the_clocks_repeat_or_skip(app, runner):
    """02:30 on 31.10.2027 happens twice in Berlin and calendar programs disagree which one
    is meant; 02:30 on 28.03.2027 does not happen at all. Neither is stored, with or without
    an offset, as a start or as an end, nor as a date of a format's rule."""
    _planned_format(app)
    with app.app_context():
        format = db.session.execute(select(Format)).scalar_one()
        session = make_session(format)
        format.rdates = "2027-10-31T02:30"
        format.rrule = None
        db.session.commit()
        session_id, before = session.id, (session.starts_at, session.ends_at, session.sequence)
    move = ["sessions", "move", str(session_id)]
    cases = [
        ([*move, "--start", "2027-10-31T02:30"], "gibt es am 31.10.2027 zweimal"),
        ([*move, "--start", "2027-10-31T02:30+01:00"], "gibt es am 31.10.2027 zweimal"),
        ([*move, "--start", "2027-10-31T01:00", "--end", "2027-10-31T02:15"], "zweimal"),
        ([*move, "--start", "2027-03-28T02:30"], "gibt es am 28.03.2027 nicht"),
        (["sessions", "generate", "--format", "blick", "--until", "2027-12-31"], "zweimal"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    with app.app_context():
        session = db.session.get(Session, session_id)
        assert (session.starts_at, session.ends_at, session.sequence) == before
        assert db.session.execute(select(Session)).scalars().all() == [session]
    # An hour later the same night is unambiguous and moves the session.
    result = runner.invoke(args=[*move, "--start", "2027-10-31T03:30"])
    assert result.exit_code == 0 and "2027-10-31T03:30:00+01:00" in result.output
