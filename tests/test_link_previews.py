"""A link shared in a messenger says what it is (title, date, place), and one session can be
added to the calendar app a person uses, with nothing loaded from another host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from eventsapp.database import db
from eventsapp.models import SessionStatus
from eventsapp.services import scheduling
from tests.factories import make_format, make_session

STARTS = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)  # 18:00 in Dortmund


class Page(HTMLParser):
    """The meta tags (by name or property) and the links of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}  # link text -> href
        self._href: str | None = None
        self._text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and "content" in attrs:
            self.meta[attrs.get("property") or attrs.get("name")] = attrs["content"]
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.meta["canonical"] = attrs["href"]
        elif tag == "a":
            self._href, self._text = attrs.get("href"), ""

    def handle_data(self, data):
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links[" ".join(self._text.split())] = self._href
            self._href = None


def _session(app, **values) -> int:
    with app.app_context():
        format = make_format(
            title='Blick in die Polizei: "Fragen & Antworten"',
            summary="Bürgerinnen und Bürger besuchen das Präsidium <und fragen>.",
        )
        session = make_session(
            format,
            starts_at=STARTS,
            ends_at=STARTS + timedelta(hours=2),
            venue_name="Polizeipräsidium Dortmund",
            venue_address="Markgrafenstraße 102, 44139 Dortmund",
            **values,
        )
        db.session.commit()
        return session.id


def test_a_shared_session_link_shows_title_date_and_place(app, client):
    session_id = _session(app)
    response = client.get(f"/sessions/{session_id}")
    html = response.get_data(as_text=True)
    page = Page(html)
    url = f"{app.config['EVENTSAPP_BASE_URL']}/sessions/{session_id}"
    assert page.meta["og:title"] == 'Blick in die Polizei: "Fragen & Antworten", 9. März 2027'
    assert page.meta["og:description"] == (
        "9. März 2027, 18:00–20:00 Uhr, Polizeipräsidium Dortmund. "
        "Bürgerinnen und Bürger besuchen das Präsidium <und fragen>."
    )
    assert page.meta["description"] == page.meta["og:description"]
    assert page.meta["og:url"] == page.meta["canonical"] == url
    assert page.meta["og:locale"] == "de"
    assert page.meta["og:site_name"] == app.config["EVENTSAPP_SITE_NAME"]
    assert "<und fragen>" not in html  # escaped inside the attribute, like everywhere

    arabic = Page(client.get(f"/sessions/{session_id}?lang=ar").get_data(as_text=True))
    assert arabic.meta["og:locale"] == "ar"
    assert "Uhr" not in arabic.meta["og:description"]


def test_a_cancelled_date_says_so_in_its_preview(app, client):
    session_id = _session(app)
    with app.app_context():
        from eventsapp.models import Session

        scheduling.cancel_session(db.session.get(Session, session_id), reason="", now=STARTS)
        db.session.commit()
    page = Page(client.get(f"/sessions/{session_id}").get_data(as_text=True))
    assert page.meta["og:description"].startswith("Dieser Termin ist abgesagt. 9. März 2027")


def test_format_and_home_pages_have_previews_too(app, client):
    _session(app)
    with app.app_context():
        slug = make_format(title="Blick in die Organisation", summary="").slug
        db.session.commit()
    home = Page(client.get("/").get_data(as_text=True))
    assert home.meta["og:title"] == app.config["EVENTSAPP_SITE_NAME"]
    assert home.meta["description"].startswith("Polizei und Partnerorganisationen laden")
    format_page = Page(client.get(f"/formats/{slug}").get_data(as_text=True))
    assert format_page.meta["og:title"] == "Blick in die Organisation"
    assert format_page.meta["og:description"].startswith("Veranstaltet von ")  # no summary
    assert format_page.meta["og:url"].endswith(f"/formats/{slug}")


def test_one_session_goes_into_google_outlook_or_any_calendar_app(app, client):
    session_id = _session(app)
    page = Page(client.get(f"/sessions/{session_id}").get_data(as_text=True))
    url = f"{app.config['EVENTSAPP_BASE_URL']}/sessions/{session_id}"

    google = urlsplit(page.links["Google Kalender"])
    assert (google.scheme, google.netloc) == ("https", "calendar.google.com")
    query = parse_qs(google.query)
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == ['Blick in die Polizei: "Fragen & Antworten"']
    assert query["dates"] == ["20270309T170000Z/20270309T190000Z"]
    assert query["location"] == ["Polizeipräsidium Dortmund, Markgrafenstraße 102, 44139 Dortmund"]
    assert query["details"] == [url]

    outlook = urlsplit(page.links["Outlook"])
    assert outlook.netloc == "outlook.live.com"
    query = parse_qs(outlook.query)
    assert query["startdt"] == ["2027-03-09T17:00:00Z"]
    assert query["enddt"] == ["2027-03-09T19:00:00Z"]
    assert query["subject"] == ['Blick in die Polizei: "Fragen & Antworten"']

    ics = page.links["Apple-Kalender und andere (.ics-Datei)"]
    assert ics == f"/sessions/{session_id}.ics"
    download = client.get(ics)
    assert download.status_code == 200 and b"DTSTART" in download.data


def test_no_calendar_app_links_for_dates_that_are_over_or_cancelled(app, client):
    upcoming = _session(app)
    with app.app_context():
        over = make_session(starts_at=datetime.now(UTC) - timedelta(days=2))
        cancelled = make_session(status=SessionStatus.CANCELLED, cancel_reason="Krankheit")
        db.session.commit()
        ids = (over.id, cancelled.id)
    assert "Google Kalender" in client.get(f"/sessions/{upcoming}").get_data(as_text=True)
    for session_id in ids:
        page = Page(client.get(f"/sessions/{session_id}").get_data(as_text=True))
        assert "Google Kalender" not in page.links and "Outlook" not in page.links
        assert f"/sessions/{session_id}.ics" in page.links.values()  # the file stays
