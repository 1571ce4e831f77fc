"""A date's calendar UID never changes with the site's address: feeds and invitations
built under a new EVENTSAPP_BASE_URL (or calendar domain) name every known date as before,
so calendars update their entries instead of adding copies."""

from __future__ import annotations

from datetime import timedelta

import icalendar
from flask import Flask
from sqlalchemy import text

from eventsapp.calendar.events import REQUEST, invitation
from eventsapp.database import db, utcnow
from eventsapp.models import Registration, Session
from eventsapp.services import feeds
from eventsapp.services import registrations as rules
from tests.conftest import _dispose, make_app
from tests.factories import applicant, make_format, make_session

EMAIL = "person-uid@example.org"


def _uids(body: bytes | str) -> list[str]:
    return sorted(str(e["UID"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT"))


def _everything(app: Flask) -> dict[str, list[str]]:
    """The UIDs of every feed and of each registration's invitation, built afresh."""
    found = {}
    with app.app_context():
        feeds.feed_cache().clear()
        sessions = db.session.query(Session).order_by(Session.id).all()
        slugs = {s.format.slug for s in sessions}
        hosts = {s.host_organisation.slug for s in sessions}
        feed = feeds.find_personal_feed_by_email(EMAIL)
        paths = [
            "/calendar.ics",
            *(f"/formats/{slug}.ics" for slug in slugs),
            *(f"/organisations/{slug}.ics" for slug in hosts),
            *(f"/sessions/{s.id}.ics" for s in sessions),
            f"/feeds/{feeds.feed_token(feed)}.ics",
        ]
        with app.test_request_context():
            for registration in db.session.query(Registration).order_by(Registration.id):
                found[f"invitation {registration.id}"] = _uids(
                    invitation(registration, REQUEST, stamp=utcnow())
                )
    client = app.test_client()
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, path
        found[path] = _uids(answer.data)
    return found


def test_a_new_base_url_or_calendar_domain_changes_no_uid(tmp_path):
    first = make_app(tmp_path, EVENTSAPP_BASE_URL="https://termine.polizei.example")
    database = first.config["SQLALCHEMY_DATABASE_URI"]
    options = first.config["SQLALCHEMY_ENGINE_OPTIONS"]
    with first.app_context():
        db.create_all()
        format = make_format()
        sessions = [
            make_session(format, starts_at=utcnow() + timedelta(days=7 * n)) for n in (1, 2, 3)
        ]
        for session in sessions:
            rules.register_for_session(session, applicant("uid", email=EMAIL), now=utcnow())
        feeds.personal_feed_for(EMAIL, now=utcnow())
        db.session.commit()
        known = {s.id: s.uid for s in sessions}
    before = _everything(first)
    assert set(known.values()) == {f"session-{i}@termine.polizei.example" for i in known}
    assert {uid for uids in before.values() for uid in uids} == set(known.values())
    _dispose(first)

    for settings in (
        {"EVENTSAPP_BASE_URL": "https://dialog.example.net/termine"},
        {"EVENTSAPP_BASE_URL": "http://127.0.0.1:5000", "EVENTSAPP_CALENDAR_DOMAIN": "x.example"},
    ):
        moved = make_app(
            tmp_path / settings["EVENTSAPP_BASE_URL"].split("/")[2],
            database,
            options,
            **settings,
        )
        assert _everything(moved) == before
        _dispose(moved)

    # A date created under the new address gets the new domain; the old ones keep theirs.
    later = make_app(tmp_path / "later", database, options, EVENTSAPP_CALENDAR_DOMAIN="x.example")
    with later.app_context():
        new = make_session(db.session.get(Session, sessions[0].id).format)
        db.session.commit()
        assert new.uid == f"session-{new.id}@x.example"
        stored = dict(db.session.execute(text("SELECT id, uid_domain FROM sessions")).all())
        assert {i: f"session-{i}@{stored[i]}" for i in known} == known
    _dispose(later)
