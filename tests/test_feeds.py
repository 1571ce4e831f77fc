"""Calendar feeds as calendar apps read them: three independent parsers, DST, changes, 304s."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from eventsapp.calendar.text import clean_text
from eventsapp.database import db, utcnow
from eventsapp.models import (
    Format,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    Role,
    Session,
    SessionStatus,
    Visibility,
)
from eventsapp.services import feeds, scheduling
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import csrf_token, login
from tests.factories import applicant, make_format, make_organisation, make_session, make_user

BERLIN = ZoneInfo("Europe/Berlin")
ICAL_JS = Path(__file__).parent / "js" / "parse_feed.mjs"
YEAR = utcnow().year + 1
WINTER = datetime(YEAR, 3, 16, 18, 0, tzinfo=BERLIN)  # before the switch: UTC+1
SUMMER = datetime(YEAR, 4, 13, 18, 0, tzinfo=BERLIN)  # after it: UTC+2


# --- three parsers -------------------------------------------------------------------------


def with_icalendar(body: bytes) -> dict[str, dict]:
    calendar = icalendar.Calendar.from_ical(body)
    return {
        str(e["UID"]): {
            "summary": str(e["SUMMARY"]),
            "status": str(e["STATUS"]),
            "sequence": int(e["SEQUENCE"]),
            "start": e.decoded("DTSTART"),
            "end": e.decoded("DTEND"),
            "props": set(e.keys()),
            "description": str(e.get("DESCRIPTION", "")),
            "location": str(e.get("LOCATION", "")),
        }
        for e in calendar.walk("VEVENT")
    }


def with_vobject(body: bytes) -> dict[str, dict]:
    calendar = vobject.readOne(body.decode())
    events = getattr(calendar, "vevent_list", [])
    return {
        e.uid.value: {
            "summary": e.summary.value,
            "status": e.status.value,
            "sequence": int(e.sequence.value),
            "start": e.dtstart.value,
            "end": e.dtend.value,
        }
        for e in events
    }


def with_ical_js(body: bytes) -> dict[str, dict]:
    result = subprocess.run(
        ["node", str(ICAL_JS)], input=body, capture_output=True, check=True, timeout=60
    )
    data = json.loads(result.stdout)
    return {
        e["uid"]: {
            "summary": e["summary"],
            "status": e["status"],
            "sequence": e["sequence"],
            "start": datetime.fromtimestamp(e["start_utc"], UTC),
            "end": datetime.fromtimestamp(e["end_utc"], UTC),
        }
        for e in data["events"]
    }


PARSERS = [with_icalendar, with_vobject, with_ical_js]


def assert_wire_format(body: bytes) -> None:
    assert b"\n" not in body.replace(b"\r\n", b"")  # CRLF only
    assert b"\r" not in body.replace(b"\r\n", b"")
    lines = body.split(b"\r\n")
    assert lines[-1] == b""
    assert max(len(line) for line in lines) <= 75
    assert b"ATTENDEE" not in body


def uid(session_id: int) -> str:
    return f"session-{session_id}@eventsapp.test"


@pytest.fixture
def programme(app):
    """Public sessions on both sides of a DST switch, a cancelled one, a draft, a partners-only
    session and one at another host."""
    with app.app_context():
        police = make_organisation(OrganisationKind.HOST, slug="polizei", name="Polizei")
        partner = make_organisation(OrganisationKind.PARTNER, slug="vmdo", name="VMDO")
        public = make_format(police, slug="blick", title="Blick in die Polizei")
        hidden = make_format(
            police, slug="intern", title="Werkstatt", visibility=Visibility.PARTNERS
        )
        winter = make_session(public, starts_at=WINTER)
        summer = make_session(public, starts_at=SUMMER)
        visit = make_session(
            public,
            starts_at=SUMMER + timedelta(days=7),
            host_organisation=partner,
            venue_name="Haus der Vielfalt",
        )
        cancelled = make_session(public, starts_at=SUMMER + timedelta(days=14))
        scheduling.cancel_session(cancelled, reason="Umbau", now=utcnow())
        draft = make_session(public, status=SessionStatus.DRAFT)
        closed = make_session(hidden)
        db.session.commit()
        return {
            "winter": winter.id,
            "summer": summer.id,
            "visit": visit.id,
            "cancelled": cancelled.id,
            "draft": draft.id,
            "closed": closed.id,
        }


def _events_everywhere(body: bytes) -> list[dict[str, dict]]:
    assert_wire_format(body)
    return [parse(body) for parse in PARSERS]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/calendar.ics", ["winter", "summer", "visit", "cancelled"]),
        ("/formats/blick.ics", ["winter", "summer", "visit", "cancelled"]),
        ("/organisations/vmdo.ics", ["visit"]),
        ("/organisations/polizei.ics", ["winter", "summer", "cancelled"]),
    ],
)
def test_public_feeds_hold_exactly_the_visible_sessions(client, programme, url, expected):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    for events in _events_everywhere(response.data):
        assert set(events) == {uid(programme[name]) for name in expected}


def test_times_are_berlin_wall_times_on_both_sides_of_the_switch(client, programme):
    body = client.get("/calendar.ics").data
    for events in _events_everywhere(body):
        winter, summer = events[uid(programme["winter"])], events[uid(programme["summer"])]
        assert winter["start"].astimezone(UTC) == WINTER.astimezone(UTC)
        assert summer["start"].astimezone(UTC) == SUMMER.astimezone(UTC)
        assert winter["start"].astimezone(UTC).hour == 17
        assert summer["start"].astimezone(UTC).hour == 16
        assert winter["start"].astimezone(BERLIN).hour == summer["start"].astimezone(BERLIN).hour
    assert b"TZID=Europe/Berlin" in body and b"RRULE:FREQ=YEARLY" in body and b"RDATE" not in body


def test_cancelled_sessions_stay_with_status_cancelled_and_a_higher_sequence(client, programme):
    for events in _events_everywhere(client.get("/calendar.ics").data):
        cancelled = events[uid(programme["cancelled"])]
        assert cancelled["status"] == "CANCELLED"
        assert cancelled["sequence"] > events[uid(programme["winter"])]["sequence"]
        assert cancelled["summary"].startswith("Abgesagt: ")


def test_single_session_download(client, programme):
    response = client.get(f"/sessions/{programme['winter']}.ics")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    for events in _events_everywhere(response.data):
        assert list(events) == [uid(programme["winter"])]
    assert client.get(f"/sessions/{programme['draft']}.ics").status_code == 404
    assert client.get(f"/sessions/{programme['closed']}.ics").status_code == 404
    assert client.get("/formats/intern.ics").status_code == 404
    assert client.get("/organisations/nobody.ics").status_code == 404


def test_moving_keeps_the_uid_and_raises_sequence_last_modified_and_etag(app, client, programme):
    with app.app_context():  # the session was last changed a while ago
        session = db.session.get(Session, programme["winter"])
        session.updated_at = utcnow() - timedelta(hours=2)
        db.session.commit()
    first = client.get("/calendar.ics")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/calendar.ics", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/calendar.ics", headers={"If-Modified-Since": modified}).status_code == 304
    was = event_component(first.data, programme["winter"])

    with app.app_context():
        scheduling.reschedule_session(
            db.session.get(Session, programme["winter"]),
            local_start=(WINTER + timedelta(hours=1)).replace(tzinfo=None),
            duration=timedelta(hours=2),
            now=utcnow(),
        )
        db.session.commit()

    second = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert second.status_code == 200
    assert second.headers["ETag"] != etag
    for events in _events_everywhere(second.data):
        moved = events[uid(programme["winter"])]
        assert moved["sequence"] == int(was["SEQUENCE"]) + 1
        assert moved["start"].astimezone(BERLIN).hour == 19
    moved = event_component(second.data, programme["winter"])
    assert moved.decoded("LAST-MODIFIED") > was.decoded("LAST-MODIFIED")
    assert str(moved["UID"]) == str(was["UID"])


def event_component(body: bytes, session_id: int):
    calendar = icalendar.Calendar.from_ical(body)
    return next(e for e in calendar.walk("VEVENT") if str(e["UID"]) == uid(session_id))


def test_an_unchanged_feed_is_byte_identical(app, client, programme):
    first, second = client.get("/calendar.ics"), client.get("/calendar.ics")
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    with app.app_context():
        feeds.feed_cache().clear()  # a cold build gives the same bytes
    assert client.get("/calendar.ics").data == first.data


# No NUL here: PostgreSQL refuses it outright (and the forms refuse every control character);
# the in-memory property test below feeds NUL and everything else to the builder.
HOSTILE = "Blick\r\nBEGIN:VEVENT\r\nUID:evil\rSUMMARY:x;y,z\\ \x07\u2028END:VEVENT\nX-EVIL:1"


def test_hostile_text_cannot_break_out_of_its_property(app, client):
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, name='Org\r\nX-EVIL:1;CN="x"')
        format = make_format(host, slug="hostile", title=HOSTILE, summary=HOSTILE)
        session = make_session(format, venue_name=HOSTILE, venue_address="a;b,c\\d", note=HOSTILE)
        db.session.commit()
        session_id = session.id
    body = client.get("/formats/hostile.ics").data
    for events in _events_everywhere(body):
        assert list(events) == [uid(session_id)]
        assert events[uid(session_id)]["summary"] == clean_text(HOSTILE)
    event = with_icalendar(body)[uid(session_id)]
    assert event["props"] == {
        "UID",
        "DTSTAMP",
        "LAST-MODIFIED",
        "CREATED",
        "SEQUENCE",
        "DTSTART",
        "DTEND",
        "SUMMARY",
        "LOCATION",
        "DESCRIPTION",
        "URL",
        "ORGANIZER",
        "STATUS",
        "TRANSP",
    }
    assert not re.search(rb"\r\nX-EVIL", body.replace(b"\r\n ", b""))
    assert "a\\;b\\,c\\\\d" not in event["location"]  # escaped on the wire, plain when read
    assert "a;b,c\\d" in event["location"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=300))
def test_any_title_round_trips_through_a_parser(ctx, text):
    # Built in memory: the builder must cope with text no database would even store (NUL).
    now = utcnow()
    host = Organisation(id=1, slug="host", name="Host", contact_email="host@example.org")
    format = Format(id=1, slug="f", title=text, summary="", host_organisation=host)
    session = Session(
        id=1,
        format=format,
        host_organisation=host,
        starts_at=WINTER,
        ends_at=WINTER + timedelta(hours=2),
        timezone="Europe/Berlin",
        venue_name="Ort",
        venue_address="",
        capacity=5,
        sequence=0,
        note="",
        interpreting="",
        status=SessionStatus.PUBLISHED,
        created_at=now,
        updated_at=now,
    )
    body = feeds.build_feed("Test", "Test", [session])
    assert_wire_format(body)
    parsed = icalendar.Calendar.from_ical(body)
    events = list(parsed.walk("VEVENT"))
    assert len(events) == 1
    assert str(events[0]["SUMMARY"]) == clean_text(text)
    db.session.expunge_all()


# --- personal feeds ------------------------------------------------------------------------


def test_a_personal_feed_shows_only_that_persons_sessions_and_can_be_revoked(app, programme):
    with app.app_context():
        mine = db.session.get(Session, programme["winter"])
        theirs = db.session.get(Session, programme["summer"])
        registration = rules.register_for_session(
            mine, applicant("me", email="me@example.org"), now=utcnow()
        )
        rules.register_for_session(
            theirs, applicant("other", email="other@example.org"), now=utcnow()
        )
        db.session.commit()
        token = manage_token(registration)
    client = app.test_client()
    # The manage page shows no calendar address: it is mailed to the address on request.
    page = client.get(f"/registrations/{token}").get_data(as_text=True)
    assert "/feeds/" not in page and "persönlichen Kalender" in page
    response = client.post(
        f"/registrations/{token}/calendar",
        data={"csrf_token": csrf_token(client, f"/registrations/{token}")},
    )
    assert response.status_code == 303
    assert "/feeds/" not in client.get(f"/registrations/{token}").get_data(as_text=True)
    with app.app_context():
        mail = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("calendar-link:%"))
        ).scalar_one()
        assert mail.recipient == "me@example.org"
        link = re.search(r"http://eventsapp.test(/my-calendar/\S+)", mail.body_text).group(1)

    def feed_url_on(url: str) -> str:
        page = client.get(url).get_data(as_text=True)
        return re.search(r'value="http://eventsapp.test(/feeds/[^"]+\.ics)"', page).group(1)

    assert "/feeds/" not in client.get(link).get_data(as_text=True)  # nothing set up yet
    response = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert response.status_code == 303
    feed_url = feed_url_on(link)
    assert len("http://eventsapp.test" + feed_url) < 256
    body = client.get(feed_url).data
    for events in _events_everywhere(body):
        assert list(events) == [uid(programme["winter"])]
    assert b"other@example.org" not in body and b"me@example.org" not in body

    response = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert response.status_code == 303
    assert client.get(feed_url).status_code == 404  # the old link is dead
    new_url = feed_url_on(link)
    assert new_url != feed_url and client.get(new_url).status_code == 200
    assert client.get("/feeds/not-a-token.ics").status_code == 404


def test_waitlisted_sessions_are_tentative_in_the_personal_feed(app):
    with app.app_context():
        session = make_session(capacity=0)
        rules.register_for_session(session, applicant("me", email="me@example.org"), now=utcnow())
        token = feeds.feed_token(feeds.personal_feed_for("me@example.org", now=utcnow()))
        db.session.commit()
    body = app.test_client().get(f"/feeds/{token}.ics").data
    event = next(iter(with_icalendar(body).values()))
    assert event["status"] == "TENTATIVE" and event["summary"].startswith("Warteliste: ")


def test_a_partner_members_feed_adds_the_sessions_their_organisation_hosts(app, programme):
    with app.app_context():
        partner = db.session.execute(
            select(Organisation).where(Organisation.slug == "vmdo")
        ).scalar_one()
        make_user(Role.PARTNER, partner, email="mitglied@vmdo.example")
        db.session.commit()
    client = app.test_client()
    login(client, "mitglied@vmdo.example")
    page = client.get("/auth/account").get_data(as_text=True)
    feed_url = re.search(r'value="http://eventsapp.test(/feeds/[^"]+\.ics)"', page).group(1)
    events = with_icalendar(app.test_client().get(feed_url).data)
    assert set(events) == {uid(programme["visit"])}


# --- subscribe links and the JSON API ------------------------------------------------------


def test_subscribe_links_on_the_format_page(client, programme):
    page = client.get("/formats/blick").get_data(as_text=True)
    assert 'href="webcal://eventsapp.test/formats/blick.ics"' in page
    links = re.findall(r'href="([^"]*(?:google|outlook)[^"]*)"', page)
    assert len(links) == 2 and all(len(link) < 256 for link in links)
    assert 'value="http://eventsapp.test/formats/blick.ics"' in page


def test_api_lists_visible_sessions_with_filters_and_etag(app, client, programme):
    response = client.get("/api/v1/sessions?from=2000-01-01")
    assert response.status_code == 200
    data = response.json
    assert {s["id"] for s in data} == {
        programme[n] for n in ("winter", "summer", "visit", "cancelled")
    }
    first = next(s for s in data if s["id"] == programme["winter"])
    assert first["starts_at"].endswith("+01:00") and first["starts_at"][11:16] == "18:00"
    summer = next(s for s in data if s["id"] == programme["summer"])
    assert summer["starts_at"].endswith("+02:00")
    assert set(first) >= {
        "id",
        "format",
        "title",
        "starts_at",
        "ends_at",
        "venue",
        "status",
        "capacity",
        "seats_left",
        "waitlist",
        "url",
        "ics_url",
    }
    assert first["ics_url"].endswith(f"/sessions/{programme['winter']}.ics")
    assert client.get(
        "/api/v1/sessions", headers={"If-None-Match": response.headers["ETag"]}
    ).status_code in (200, 304)
    again = client.get(
        "/api/v1/sessions?from=2000-01-01", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    only = client.get("/api/v1/sessions?organisation=vmdo&from=2000-01-01").json
    assert [s["id"] for s in only] == [programme["visit"]]
    window = client.get(f"/api/v1/sessions?from={YEAR}-04-01&to={YEAR}-04-19").json
    assert [s["id"] for s in window] == [programme["summer"]]
    assert client.get("/api/v1/sessions?from=yesterday").status_code == 400
    assert client.get("/api/v1/sessions?format=intern&from=2000-01-01").json == []


def test_gzip_is_the_same_feed_with_its_own_etag(client, programme):
    plain = client.get("/calendar.ics")
    packed = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gz"'
    again = client.get(
        "/calendar.ics",
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""


def test_a_cached_feed_is_rechecked_after_the_interval(app, client, programme, monkeypatch):
    app.config["FEED_RECHECK_SECONDS"] = 60
    clock = [1000.0]
    monkeypatch.setattr("eventsapp.services.feeds.time.monotonic", lambda: clock[0])
    first = client.get("/calendar.ics").headers["ETag"]
    with app.app_context():
        scheduling.cancel_session(
            db.session.get(Session, programme["winter"]), reason="Sturm", now=utcnow()
        )
        db.session.commit()
    clock[0] += 59
    assert client.get("/calendar.ics").headers["ETag"] == first  # within the interval
    clock[0] += 2
    assert client.get("/calendar.ics").headers["ETag"] != first  # checked again: rebuilt
