"""What websites, search engines and messenger bots read: schema.org Event data on each
session page, and Atom feeds of new, moved and called-off dates per format and host."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from eventsapp.database import db, utcnow
from eventsapp.models import Format, OrganisationKind, Session, SessionStatus, Visibility
from eventsapp.services import registrations as rules
from eventsapp.services import scheduling
from tests.factories import applicant, make_format, make_organisation, make_session

TS_CHECKER = Path(__file__).parent / "js"
SCHEMA = "https://schema.org/"


class JsonLd(HTMLParser):
    """The JSON-LD blocks of a page, parsed as a search engine's crawler reads them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.blocks: list[dict] = []
        self._inside = False
        self._text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "script" and dict(attrs).get("type") == "application/ld+json":
            self._inside, self._text = True, ""

    def handle_data(self, data):
        if self._inside:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "script" and self._inside:
            self.blocks.append(json.loads(self._text))
            self._inside = False


def event_of(client, session_id: int, lang: str = "de") -> dict:
    response = client.get(f"/sessions/{session_id}?lang={lang}")
    assert response.status_code == 200
    blocks = JsonLd(response.get_data(as_text=True)).blocks
    assert len(blocks) == 1
    return blocks[0]


def check_against_vocabulary(events: list[dict], tmp_path: Path) -> None:
    """Every type, property and enumeration value must exist in schema.org's vocabulary:
    the TypeScript compiler checks the data against Google's schema-dts types (generated
    from the vocabulary), where an unknown property or value is a type error."""
    types = TS_CHECKER / "node_modules" / "schema-dts"
    lines = [f'import type {{ Event, WithContext }} from "{types.as_posix()}";']
    lines += [
        f"export const event{n}: WithContext<Event> = {json.dumps(event)};"
        for n, event in enumerate(events)
    ]
    source = tmp_path / "events.ts"
    source.write_text("\n".join(lines), encoding="utf-8")
    result = subprocess.run(
        [
            str(TS_CHECKER / "node_modules" / ".bin" / "tsc"),
            "--noEmit",
            "--strict",
            "--skipLibCheck",
            "--moduleResolution",
            "node",
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _fill(session_id: int, people: str, now: datetime) -> None:
    for n in people:
        rules.take_place(session_id, applicant(n), now=now)
    db.session.commit()


def test_session_page_carries_a_schema_org_event(app, client, tmp_path):
    starts = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)  # 18:00 in Dortmund (+01:00)
    with app.app_context():
        host = make_organisation(
            name="Polizeipräsidium Dortmund", website="https://polizei.example"
        )
        format = make_format(
            host, title="Blick in die Polizei", summary="Ein Abend </script> im Präsidium."
        )
        format.translations = {"ar": {"title": "نظرة داخل الشرطة"}}
        session = make_session(format, capacity=2, starts_at=starts, languages="de,ar")
        summer = make_session(format, capacity=5, starts_at=datetime(2027, 7, 6, 16, 0, tzinfo=UTC))
        db.session.commit()
        session_id, summer_id = session.id, summer.id

    event = event_of(client, session_id)
    assert event["@context"] == "https://schema.org"
    assert event["@type"] == "Event"
    assert event["name"] == "Blick in die Polizei"
    assert (
        event["description"] == "Ein Abend </script> im Präsidium."
    )  # escaped, not ending the block
    assert event["startDate"] == "2027-03-09T18:00:00+01:00"
    assert event["endDate"] == "2027-03-09T20:00:00+01:00"
    assert event_of(client, summer_id)["startDate"] == "2027-07-06T18:00:00+02:00"
    assert event["eventStatus"] == SCHEMA + "EventScheduled"
    assert event["eventAttendanceMode"] == SCHEMA + "OfflineEventAttendanceMode"
    assert event["location"] == {
        "@type": "Place",
        "name": "Polizeipräsidium Dortmund",
        "address": "Markgrafenstraße 102, 44139 Dortmund",
    }
    assert event["organizer"] == {
        "@type": "Organization",
        "name": "Polizeipräsidium Dortmund",
        "url": "https://polizei.example",
    }
    assert event["url"].endswith(f"/sessions/{session_id}")
    assert event["inLanguage"] == ["de", "ar"]
    assert event["offers"]["availability"] == SCHEMA + "InStock"
    assert event["offers"]["price"] == "0"
    assert event["remainingAttendeeCapacity"] == 2
    assert event_of(client, session_id, "ar")["name"] == "نظرة داخل الشرطة"

    # The last public seat goes: the page (and its data) says sold out; the waitlist is open.
    with app.app_context():
        _fill(session_id, "a", utcnow())
        assert event_of(client, session_id)["offers"]["availability"] == SCHEMA + "InStock"
        _fill(session_id, "bc", utcnow())  # one seat, then the waitlist
    full = event_of(client, session_id)
    assert full["offers"]["availability"] == SCHEMA + "SoldOut"
    assert full["remainingAttendeeCapacity"] == 0
    assert "person" not in json.dumps(full)  # nobody who registered is named

    # Moved, then called off.
    with app.app_context():
        now = utcnow()
        scheduling.reschedule_session(
            db.session.get(Session, summer_id),
            local_start=datetime(2027, 7, 8, 18, 30),
            duration=timedelta(hours=2),
            now=now,
        )
        db.session.commit()
    moved = event_of(client, summer_id)
    assert moved["eventStatus"] == SCHEMA + "EventRescheduled"
    assert moved["previousStartDate"] == "2027-07-06T18:00:00+02:00"
    assert moved["startDate"] == "2027-07-08T18:30:00+02:00"
    with app.app_context():
        scheduling.cancel_session(db.session.get(Session, session_id), reason="", now=utcnow())
        db.session.commit()
    cancelled = event_of(client, session_id)
    assert cancelled["eventStatus"] == SCHEMA + "EventCancelled"
    assert "offers" not in cancelled

    check_against_vocabulary([event, full, moved, cancelled], tmp_path)


def test_the_vocabulary_check_catches_what_is_not_schema_org(tmp_path):
    """The checker above is not a formality: an unknown property or status fails it."""
    base = {"@context": "https://schema.org", "@type": "Event", "name": "x"}
    with pytest.raises(AssertionError, match="seatsLeft"):
        check_against_vocabulary([{**base, "seatsLeft": 3}], tmp_path)
    with pytest.raises(AssertionError, match="EventPostponedForever"):
        check_against_vocabulary(
            [{**base, "eventStatus": SCHEMA + "EventPostponedForever"}], tmp_path
        )


def _atom(client, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_atom_feeds_tell_new_moved_and_cancelled_dates(app, client):
    now = utcnow()
    with app.app_context():
        host = make_organisation(name="Polizeipräsidium Dortmund")
        partner = make_organisation(OrganisationKind.PARTNER, name="VMDO & Freunde")
        format = make_format(host, title="Blick in die Polizei <live>")
        hidden = make_format(host, title="Nur für Partner", visibility=Visibility.PARTNERS)
        day = (now + timedelta(days=30)).date()
        drafts = [
            make_session(
                format,
                status=SessionStatus.DRAFT,
                starts_at=datetime.combine(day + timedelta(days=7 * n), time(17), UTC),
                host_organisation=partner if n == 2 else host,
            )
            for n in range(3)
        ]
        make_session(hidden, starts_at=now + timedelta(days=40), published_at=now)
        scheduling.publish_sessions(format, drafts, now=now - timedelta(days=2))
        scheduling.reschedule_session(
            drafts[0],
            local_start=datetime.combine(day + timedelta(days=1), time(19)),
            duration=timedelta(hours=2),
            now=now - timedelta(days=1),
        )
        scheduling.cancel_session(drafts[1], reason="Krankheit", now=now)
        db.session.commit()
        slug, host_slug, partner_slug = format.slug, host.slug, partner.slug
        ids = [s.id for s in drafts]

    feed = _atom(client, f"/formats/{slug}.atom")
    titles = [entry.title for entry in feed.entries]
    assert titles == [
        f"Termin abgesagt: Blick in die Polizei <live>, {_long(day + timedelta(days=7))}",
        f"Termin verschoben: Blick in die Polizei <live>, {_long(day + timedelta(days=1))}",
        "Neue Termine: Blick in die Polizei <live>",
    ]
    cancelled, moved, published = feed.entries
    assert "Krankheit" in cancelled.summary
    assert cancelled.link.endswith(f"/sessions/{ids[1]}?lang=de")
    assert "19:00" in moved.summary and "18:00" in moved.summary  # new time and the old one
    assert published.summary.count("\n") == 2  # three dates, one per line
    assert "(abgesagt)" in published.summary
    assert len({entry.id for entry in feed.entries}) == 3
    assert all(entry.id.startswith("tag:") for entry in feed.entries)
    assert feed.feed.title == "Blick in die Polizei <live>: Termine"
    assert "Nur für Partner" not in client.get(f"/formats/{slug}.atom").get_data(as_text=True)

    # Per host: the partner's feed has only the date at its premises.
    partner_feed = _atom(client, f"/organisations/{partner_slug}.atom")
    assert [entry.title for entry in partner_feed.entries] == [
        "Neuer Termin: Blick in die Polizei <live>"
    ]
    assert partner_feed.feed.title == "Termine bei VMDO & Freunde"
    assert len(_atom(client, f"/organisations/{host_slug}.atom").entries) == 3
    # Browsers and feed readers find the feeds from the pages.
    page = client.get(f"/organisations/{partner_slug}").get_data(as_text=True)
    assert f'type="application/atom+xml" href="/organisations/{partner_slug}.atom?lang=de"' in page
    assert "<title>VMDO &amp; Freunde – " in page  # the page's title is text, no markup
    page = client.get(f"/formats/{slug}?lang=fr").get_data(as_text=True)
    assert f'href="/formats/{slug}.atom?lang=fr"' in page

    # In the reader's language, with links that open the pages in it.
    arabic = _atom(client, f"/formats/{slug}.atom?lang=ar")
    assert arabic.feed.language == "ar"
    assert all(entry.link.endswith("lang=ar") for entry in arabic.entries)
    assert "Termin" not in arabic.entries[0].title

    # A partners-only format has no public feed; revalidation is a 304.
    with app.app_context():
        hidden_slug = db.session.execute(
            db.select(Format.slug).where(Format.visibility == Visibility.PARTNERS)
        ).scalar_one()
    assert client.get(f"/formats/{hidden_slug}.atom").status_code == 404
    assert client.get("/organisations/nobody.atom").status_code == 404
    etag = client.get(f"/formats/{slug}.atom").headers["ETag"]
    assert client.get(f"/formats/{slug}.atom", headers={"If-None-Match": etag}).status_code == 304


def test_an_empty_feed_is_still_valid_atom(app, client):
    with app.app_context():
        slug = make_format(title="Neu").slug
        db.session.commit()
    feed = _atom(client, f"/formats/{slug}.atom")
    assert feed.entries == []
    assert feed.feed.updated


def _long(day: date) -> str:
    from babel.dates import format_date

    return format_date(day, format="long", locale="de")
