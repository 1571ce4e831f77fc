"""iTIP ordering per attendee (RFC 5546 2.1.4-2.1.5): every invitation, update and
cancellation one person receives orders after the one before it, read by icalendar and by
Mozilla's ical.js (Thunderbird's parser); uninviting one person is a CANCEL without
STATUS:CANCELLED, a called-off date one with it; those never invited get no CANCEL."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import icalendar

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.models import Registration, Session
from eventsapp.services import registrations as rules
from eventsapp.services import scheduling
from tests.factories import applicant, make_format, make_session

ICAL_JS = Path(__file__).parent / "js" / "parse_feed.mjs"
EMAIL = "person-itip@example.org"


def _calendar_part(message):
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return parts[0] if parts else None


def _read(ics: str) -> dict:
    """Both parsers' view of one invitation: method and its one event."""
    calendar = icalendar.Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    mine = {
        "method": str(calendar["METHOD"]),
        "uid": str(event["UID"]),
        "sequence": int(event["SEQUENCE"]),
        "dtstamp": event.decoded("DTSTAMP"),
        "status": str(event["STATUS"]) if "STATUS" in event else None,
        "attendees": [str(event["ATTENDEE"])],
    }
    result = subprocess.run(
        ["node", str(ICAL_JS)], input=ics.encode(), capture_output=True, check=True, timeout=60
    )
    data = json.loads(result.stdout)
    (theirs,) = data["events"]
    assert data["method"] == mine["method"]
    assert theirs["uid"] == mine["uid"] and theirs["sequence"] == mine["sequence"]
    assert datetime.fromtimestamp(theirs["dtstamp_utc"], UTC) == mine["dtstamp"]
    assert theirs["status"] == mine["status"]
    assert theirs["attendees"] == mine["attendees"]
    return mine


def _step(app, action) -> None:
    with app.app_context():
        action()
        db.session.commit()
        deliver_due(now=utcnow())


def test_register_cancel_register_move_cancel_reach_one_person_in_order(mail_app, smtp_server):
    app = mail_app
    with app.app_context():
        session = make_session(make_format(), capacity=1)
        session_id = session.id
        db.session.commit()

    def session_():
        return db.session.get(Session, session_id)

    def mine():
        return (
            db.session.query(Registration)
            .filter_by(session_id=session_id, email=EMAIL)
            .order_by(Registration.id.desc())
            .first()
        )

    def register():
        rules.register_for_session(session_(), applicant("itip", email=EMAIL), now=utcnow())

    def move():
        s = session_()
        local = (s.local_start + timedelta(hours=1)).replace(tzinfo=None)
        scheduling.reschedule_session(
            s, local_start=local, duration=s.ends_at - s.starts_at, now=utcnow()
        )

    _step(app, register)
    _step(app, lambda: rules.cancel_registration(mine(), now=utcnow()))
    _step(app, register)
    # Someone else waits for the full date: never invited, so never uninvited.
    _step(
        app,
        lambda: rules.register_for_session(session_(), applicant("waits"), now=utcnow()),
    )
    _step(app, move)
    _step(app, lambda: scheduling.cancel_session(session_(), reason="Umbau", now=utcnow()))

    messages = [m for m in smtp_server.sink.to(EMAIL) if _calendar_part(m) is not None]
    read = [_read(_calendar_part(m).get_content()) for m in messages]
    assert [(r["method"], r["status"]) for r in read] == [
        ("REQUEST", "CONFIRMED"),  # registered
        ("CANCEL", None),  # cancelled their place: uninvited, the date itself stands
        ("REQUEST", "CONFIRMED"),  # registered again
        ("REQUEST", "CONFIRMED"),  # the date moved
        ("CANCEL", "CANCELLED"),  # the date was called off
    ]
    for message, one in zip(messages, read, strict=True):
        assert _calendar_part(message).get_param("method") == one["method"]
        assert one["attendees"] == [f"mailto:{EMAIL}"]
    assert len({r["uid"] for r in read}) == 1
    order = [(r["sequence"], r["dtstamp"]) for r in read]
    assert all(a < b for a, b in pairwise(order)), order
    # DTSTAMP is when each message was made, not when the session last changed.
    with app.app_context():
        changed = session_().updated_at
    assert all(r["dtstamp"] >= changed.replace(microsecond=0) for r in read[-1:])
    assert read[0]["dtstamp"] < changed

    waiting = smtp_server.sink.to("personwaits@example.org")
    assert waiting and all(_calendar_part(m) is None for m in waiting)


def test_a_request_never_invited_gets_no_cancel_when_rejected_or_withdrawn(mail_app, smtp_server):
    """Pending requests and waitlist places were never in anyone's calendar: rejecting or
    withdrawing them mails the news without a calendar part; an approved one is invited."""
    app = mail_app
    with app.app_context():
        session = make_session(make_format(approval_required=True), capacity=3)
        people = [
            rules.register_for_session(session, applicant(name), now=utcnow())
            for name in ("rejected", "withdrawn", "approved")
        ]
        db.session.commit()
        deliver_due(now=utcnow())
        rejected, withdrawn, approved = people
        assert {p.status for p in people} == {"pending"}
        rules.reject_registration(rejected, now=utcnow())
        rules.cancel_registration(withdrawn, now=utcnow())
        rules.approve_registration(approved, now=utcnow())
        db.session.commit()
        deliver_due(now=utcnow())
    for name in ("rejected", "withdrawn"):
        mails = smtp_server.sink.to(f"person{name}@example.org")
        assert len(mails) == 2 and all(_calendar_part(m) is None for m in mails), name
    received, confirmed = smtp_server.sink.to("personapproved@example.org")
    assert _calendar_part(received) is None
    assert _read(_calendar_part(confirmed).get_content())["method"] == "REQUEST"
