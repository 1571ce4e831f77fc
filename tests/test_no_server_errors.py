"""Inputs that once ended in a 500: each now gets a 4xx with a message in the right type.

- API filters with days that cannot be placed in UTC (`from=0001-01-01` overflowed), and
  every error under /api/ as JSON, also 404, 405, 429 and 500 from the error handlers;
- back-office dates such as the year 0001 (contingent release, session edit, schedule):
  one shared range check, with the message next to the field;
- query parameters that url_for reads as instructions (`_scheme`, `_external`, `_anchor`,
  `_method`, `endpoint`) breaking the language switcher on every page.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import abort
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.models import Contingent, Format, OrganisationKind, Role, Session
from tests.conftest import _create_tables, _dispose, csrf_token, login, make_app
from tests.factories import make_format, make_organisation, make_session, make_user

DAY_RANGE = "Bitte geben Sie ein Datum vom 01.01.1900 bis zum 31.12.2999 an."
PLACED_RANGE = "Termine sind nur vom 01.01.1900 bis zum 31.12.2999 möglich."


@pytest.fixture
def site(tmp_path):
    """A host with a format and a published session, a partner, and an organiser's login;
    plus routes that fail on purpose, under /api/ and elsewhere."""
    app = make_app(tmp_path, RATELIMIT_ENABLED=False)

    def fail(code: int):
        if code == 500:
            raise RuntimeError("a bug")
        abort(code)

    app.add_url_rule("/api/v1/failing/<int:code>", "api_failing", fail)
    app.add_url_rule("/failing/<int:code>", "failing", fail)
    _create_tables(app)
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, slug="polizei")
        partner = make_organisation(OrganisationKind.PARTNER, slug="vmdo")
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        format = make_format(
            host,
            slug="blick",
            title="Blick in die Polizei",
            rrule="FREQ=MONTHLY;BYDAY=2TU",
            series_start=date(2027, 1, 1),
            start_time=time(18, 0),
        )
        session = make_session(format, capacity=5, starts_at=utcnow() + timedelta(days=20))
        db.session.commit()
        ids = {"format": format.id, "session": session.id, "partner": partner.id}
    yield app, ids
    _dispose(app)


def _error_of(response) -> str:
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert set(body) == {"error"} and body["error"].strip()
    return body["error"]


# --- the API -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "from=0001-01-01",  # midnight in Berlin is in the year 0 in UTC: was an OverflowError
        "to=0001-01-01",
        "to=9999-12-31",
        "from=9999-12-31",
        "from=1899-12-31",
        "to=3000-01-01",
        "from=2026-02-30",
        "from=2026-13-01",
        "from=0000-00-00",
        "from=99999-01-01",
        "from=-2026-01-01",
        "from=2027-01-01&to=",
    ],
)
def test_the_api_refuses_days_it_cannot_place_with_json(site, query):
    app, _ = site
    response = app.test_client().get(f"/api/v1/sessions?{query}")
    assert response.status_code == 400
    assert "YYYY-MM-DD" in _error_of(response)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_the_first_and_last_day_work_in_any_time_zone(tmp_path, zone):
    app = _create_tables(make_app(tmp_path, EVENTSAPP_TIMEZONE=zone))
    with app.app_context():
        make_session(make_format(slug="blick"))
        db.session.commit()
    response = app.test_client().get("/api/v1/sessions?from=1900-01-01&to=2999-12-31")
    assert response.status_code == 200
    assert [s["format"] for s in response.json] == ["blick"]
    _dispose(app)


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/api/v1/nothing-here", 404),
        ("GET", "/api/v2/sessions", 404),
        ("POST", "/api/v1/sessions", 405),
        ("DELETE", "/api/v1/sessions", 405),
        ("GET", "/api/v1/failing/400", 400),
        ("GET", "/api/v1/failing/429", 429),
        ("GET", "/api/v1/failing/500", 500),
    ],
)
def test_every_error_under_api_is_json(site, method, url, status):
    app, _ = site
    response = app.test_client().open(url, method=method)
    assert response.status_code == status
    _error_of(response)
    if status == 405:
        assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("/nothing-here", 404, "Seite nicht gefunden"),
        ("/failing/429", 429, "Zu viele Versuche"),
        ("/failing/500", 500, "Etwas ist schiefgegangen"),
    ],
)
def test_other_errors_stay_html_pages(site, url, status, text):
    app, _ = site
    response = app.test_client().get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html" and text in response.get_data(as_text=True)


def test_an_error_page_that_fails_to_render_still_answers(site, monkeypatch):
    app, _ = site

    def broken(*args, **kwargs):
        raise RuntimeError("template broken")

    monkeypatch.setattr("eventsapp.errors.render_template", broken)
    response = app.test_client().get("/failing/500")
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Etwas ist schiefgegangen" in response.get_data(as_text=True)


# --- back-office dates ---------------------------------------------------------------------


def _rows(app) -> tuple:
    with app.app_context():
        counts = tuple(
            db.session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Format, Session, Contingent)
        )
        times = db.session.execute(select(Session.starts_at).order_by(Session.id)).all()
        return counts, tuple(times)


def _field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', html)
    assert match, f"no message next to {name}"
    return match[1].strip()


SCHEDULE = {
    "kind": "monthly",
    "interval": "1",
    "weekday": "1",
    "nth": "2",
    "start_date": "2027-01-01",
    "start_time": "18:00",
    "end": "count",
    "count": "3",
    "until": "",
    "dates": "",
    "action": "create",
}
SESSION = {
    "start_time": "18:00",
    "end_time": "20:00",
    "scope": "this",
    "venue_name": "Präsidium",
    "capacity": "5",
}
CASES = [
    # (form, values, field with the message, message)
    ("contingent", {"release_date": "0001-01-01", "release_time": "00:00"}, "release_date", 1),
    ("contingent", {"release_date": "0001-01-01", "release_time": "12:00"}, "release_date", 1),
    ("contingent", {"release_date": "9999-12-31", "release_time": "23:30"}, "release_date", 1),
    ("edit", {"start_date": "0001-01-01", "start_time": "00:30"}, "start_date", 1),
    ("edit", {"start_date": "9999-12-31", "start_time": "23:00"}, "start_date", 1),
    ("schedule", {"start_date": "0001-01-01", "start_time": "00:00"}, "start_date", 1),
    ("schedule", {"end": "until", "until": "9999-12-31"}, "until", 1),
    ("schedule", {"kind": "dates", "dates": "14.01.2027\n01.01.0001"}, "dates", 1),
    ("schedule", {"kind": "dates", "dates": "9999-12-31"}, "dates", 1),
    # The series starts within range but runs past it: refused where it is placed in UTC.
    ("schedule", {"kind": "weekly", "start_date": "2999-12-01", "count": "10"}, "end", 2),
    ("generate", {"until": "0001-01-01"}, "until", 1),
    ("generate", {"until": "9999-12-31"}, "until", 1),
]


def _post_form(app, ids, form: str, values: dict):
    client = app.test_client()
    login(client, "kim@polizei.example")
    token = csrf_token(client, "/organiser/formats/new")
    session, format = ids["session"], ids["format"]
    if form == "contingent":
        url, data = f"/organiser/sessions/{session}/contingents", {"organisation": ids["partner"]}
        data["seats"] = "1"
    elif form == "edit":
        url = f"/organiser/sessions/{session}/edit"
        with app.app_context():
            host = db.session.get(Session, session).host_organisation_id
        data = {**SESSION, "host_organisation": host}
    elif form == "schedule":
        url, data = f"/organiser/formats/{format}/schedule", dict(SCHEDULE)
    else:
        url, data = f"/organiser/formats/{format}/generate", {}
    return client.post(url, data={**data, **values, "csrf_token": token})


@pytest.mark.parametrize(("form", "values", "field", "which"), CASES)
def test_back_office_dates_outside_the_range_get_a_message_next_to_the_field(
    site, form, values, field, which
):
    app, ids = site
    before = _rows(app)
    response = _post_form(app, ids, form, values)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    message = DAY_RANGE if which == 1 else PLACED_RANGE
    assert _field_error(response.get_data(as_text=True), field) == message
    assert _rows(app) == before


def test_the_first_day_of_the_range_is_read_and_answered_by_the_rules(site):
    """1 January 1900, 00:00 in Berlin is 1899 in UTC: read without an error, and refused
    by the contingent rule (a release in the past), not by an overflow."""
    app, ids = site
    response = _post_form(
        app, ids, "contingent", {"release_date": "1900-01-01", "release_time": "00:00"}
    )
    assert response.status_code == 422
    assert "Die Freigabe muss in der Zukunft liegen." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Contingent.release_at)).first() is None


def test_date_inputs_tell_the_browser_the_range(site):
    app, ids = site
    client = app.test_client()
    login(client, "kim@polizei.example")
    for url in (
        f"/organiser/formats/{ids['format']}/schedule",
        f"/organiser/sessions/{ids['session']}/edit",
        f"/organiser/sessions/{ids['session']}",
        f"/organiser/formats/{ids['format']}",
    ):
        html = client.get(url).get_data(as_text=True)
        inputs = re.findall(r'<input[^>]*type="date"[^>]*>', html)
        assert inputs, url
        assert all('min="1900-01-01"' in i and 'max="2999-12-31"' in i for i in inputs), url


# --- the language switcher -----------------------------------------------------------------

LINK_RE = re.compile(r'<a href="([^"]*)" lang="([a-z]+)" hreflang=')


def _language_links(html: str) -> list[str]:
    links = [unescape(href) for href, _ in LINK_RE.findall(html)]
    assert len(links) == 6
    return links


@pytest.mark.parametrize(
    "query",
    [
        "_scheme=x&_external=1",
        "_scheme=javascript",
        "_external=1",
        "_anchor=top",
        "_method=POST",
        "_whatever=1",
        "endpoint=admin.dashboard",
        "slug=geheim",
        "session_id=abc",
    ],
)
@pytest.mark.parametrize("page", ["/", "/formats/blick", "/sessions/{session}", "/nothing"])
def test_the_language_switcher_ignores_url_for_instructions(site, page, query):
    app, ids = site
    path = page.format(**ids)
    response = app.test_client().get(f"{path}?{query}")
    assert response.status_code == (404 if page == "/nothing" else 200)
    for link in _language_links(response.get_data(as_text=True)):
        assert link.startswith("/") and "#" not in link and "://" not in link
        names = [name for name, _ in parse_qsl(urlsplit(link).query, keep_blank_values=True)]
        assert not any(name.startswith("_") or name == "endpoint" for name in names), link
        if page != "/nothing":
            assert link.split("?")[0] == path  # the page's own address, not one from the query


def test_ordinary_parameters_are_kept_in_the_language_links(site):
    app, _ = site
    html = app.test_client().get("/?q=Blick&_anchor=x").get_data(as_text=True)
    assert "/?q=Blick&lang=en" in _language_links(html)


names = st.one_of(
    st.sampled_from(["_scheme", "_external", "_anchor", "_method", "endpoint", "lang", "slug"]),
    st.text(max_size=12),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=st.lists(st.tuples(names, st.text(max_size=20)), max_size=6))
def test_no_query_string_breaks_the_language_switcher(site, query):
    app, ids = site
    client = app.test_client()
    for path in ("/", f"/sessions/{ids['session']}"):
        response = client.get(path, query_string=query)
        assert response.status_code < 500, query
        if response.status_code == 200:
            for link in _language_links(response.get_data(as_text=True)):
                assert link.startswith("/") and "#" not in link, (query, link)
