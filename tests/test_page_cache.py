"""Public pages kept for anonymous visitors (eventsapp/pagecache.py).

Every visitor gets a form with their own CSRF token; a change made in this process shows at
once, a change made by another process once the data fingerprint is read again; signed-in
visitors and pages past one of their moments (the start of the session) are never served
from the cache.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import template_rendered
from sqlalchemy import update

from eventsapp.database import db, utcnow
from eventsapp.models import OrganisationKind, Role, Session
from eventsapp.services import registrations as rules
from tests.conftest import CSRF_RE, _create_tables, _dispose, login, make_app
from tests.factories import applicant, make_format, make_organisation, make_session, make_user


@pytest.fixture
def slow_recheck_app(tmp_path):
    """Fingerprint read at most once an hour: what the page shows comes from the cache."""
    (tmp_path / "kept").mkdir()
    app = _create_tables(make_app(tmp_path / "kept", PAGE_RECHECK_SECONDS=3600))
    yield app
    _dispose(app)


def _session(app, **values) -> int:
    with app.app_context():
        session = make_session(make_format(title="Blick in die Polizei"), capacity=3, **values)
        db.session.commit()
        return session.id


def _other_process(app):
    """A second app on the same database: its writes do not touch this app's cache."""
    return make_app(
        Path(app.instance_path).parent / "other",
        database_url=app.config["SQLALCHEMY_DATABASE_URI"],
        engine_options=app.config["SQLALCHEMY_ENGINE_OPTIONS"],
    )


def _register(app, email: str, session_id: int, csrf: str, client) -> int:
    data = {"name": "Ayşe Demir", "email": email, "language": "de", "consent": "y"}
    response = client.post(f"/sessions/{session_id}/register", data={**data, "csrf_token": csrf})
    return response.status_code


def test_each_visitor_gets_their_own_token_in_the_same_page(slow_recheck_app):
    app = slow_recheck_app
    session_id = _session(app)
    first, second = app.test_client(), app.test_client()
    page_one = first.get(f"/sessions/{session_id}").get_data(as_text=True)
    page_two = second.get(f"/sessions/{session_id}").get_data(as_text=True)
    token_one, token_two = CSRF_RE.search(page_one)[1], CSRF_RE.search(page_two)[1]
    assert token_one != token_two
    assert page_one.replace(token_one, "") == page_two.replace(token_two, "")

    # A token belongs to its visitor's session: the other visitor cannot use it.
    assert _register(app, "a@example.org", session_id, token_two, first) == 400
    assert _register(app, "b@example.org", session_id, token_two, second) == 303
    assert _register(app, "a@example.org", session_id, token_one, first) == 303


def test_a_change_in_this_process_shows_at_once(slow_recheck_app):
    app = slow_recheck_app
    session_id = _session(app)
    visitor = app.test_client()
    assert "3 Plätze frei" in visitor.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "3 Plätze frei" in visitor.get("/").get_data(as_text=True)
    with app.app_context():
        rules.register_for_session(db.session.get(Session, session_id), applicant(1), now=utcnow())
        db.session.commit()
    assert "2 Plätze frei" in visitor.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "2 Plätze frei" in visitor.get("/").get_data(as_text=True)


def test_another_process_is_seen_when_the_fingerprint_is_read_again(app, slow_recheck_app):
    for kept, recheck_each_time in ((slow_recheck_app, False), (app, True)):
        session_id = _session(kept)
        visitor = kept.test_client()
        assert "3 Plätze frei" in visitor.get(f"/sessions/{session_id}").get_data(as_text=True)
        other = _other_process(kept)
        with other.app_context():
            rules.register_for_session(
                db.session.get(Session, session_id), applicant(1), now=utcnow()
            )
            db.session.execute(
                update(Session).where(Session.id == session_id).values(venue_name="Neuer Ort")
            )
            db.session.commit()
        _dispose(other)
        page = visitor.get(f"/sessions/{session_id}").get_data(as_text=True)
        if recheck_each_time:  # PAGE_RECHECK_SECONDS = 0, as in TestConfig
            assert "2 Plätze frei" in page and "Neuer Ort" in page
        else:  # still within the hour: the kept page, unchanged
            assert "3 Plätze frei" in page and "Neuer Ort" not in page


def test_signed_in_visitors_get_their_own_page(slow_recheck_app):
    app = slow_recheck_app
    session_id = _session(app)
    with app.app_context():
        partner = make_organisation(OrganisationKind.PARTNER)
        make_user(Role.PARTNER, partner, email="mitglied@verein.example", name="Deniz Kaya")
        db.session.commit()
    anonymous = app.test_client()
    assert 'value="Deniz Kaya"' not in anonymous.get(f"/sessions/{session_id}").get_data(
        as_text=True
    )
    member = app.test_client()
    login(member, "mitglied@verein.example")
    page = member.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert 'value="Deniz Kaya"' in page and 'action="/auth/logout"' in page
    # ... and the kept anonymous page did not take anything of theirs.
    page = app.test_client().get(f"/sessions/{session_id}").get_data(as_text=True)
    assert 'value="Deniz Kaya"' not in page and 'action="/auth/logout"' not in page


def test_a_kept_page_ends_when_the_session_starts(slow_recheck_app, monkeypatch):
    app = slow_recheck_app
    starts_at = utcnow() + timedelta(seconds=20)  # well within the cache's longest keep
    session_id = _session(app, starts_at=starts_at)
    visitor = app.test_client()
    assert "Verbindlich anmelden" in visitor.get(f"/sessions/{session_id}").get_data(as_text=True)

    later = starts_at + timedelta(seconds=1)
    monkeypatch.setattr("eventsapp.pagecache.utcnow", lambda: later)
    monkeypatch.setattr("eventsapp.public.routes.utcnow", lambda: later)
    page = visitor.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "Dieser Termin hat bereits begonnen" in page
    assert "Verbindlich anmelden" not in page


def test_the_api_keeps_each_query_apart_and_revalidates(slow_recheck_app):
    app = slow_recheck_app
    with app.app_context():
        police = make_session(make_format(title="Blick in die Polizei"), capacity=3)
        visit = make_session(make_format(title="Blick in die Organisation"), capacity=5)
        db.session.commit()
        slugs = police.format.slug, visit.format.slug
        police_id = police.id
    client = app.test_client()
    for slug, seats in zip(slugs, (3, 5), strict=True):
        for _ in range(2):  # rendered, then from the cache
            response = client.get(f"/api/v1/sessions?format={slug}")
            assert [s["seats_left"] for s in response.json] == [seats]
    etag = response.headers["ETag"]
    again = client.get(f"/api/v1/sessions?format={slugs[1]}", headers={"If-None-Match": etag})
    assert again.status_code == 304

    # Parameters the API does not read are not part of the key: the kept answer serves them.
    other = _other_process(app)
    with other.app_context():
        rules.register_for_session(db.session.get(Session, police_id), applicant(1), now=utcnow())
        db.session.commit()
    _dispose(other)
    assert client.get(f"/api/v1/sessions?format={slugs[0]}&x=1").json[0]["seats_left"] == 3

    with app.app_context():
        rules.register_for_session(db.session.get(Session, police_id), applicant(2), now=utcnow())
        db.session.commit()
    assert client.get(f"/api/v1/sessions?format={slugs[0]}").json[0]["seats_left"] == 1


def _made_up_query(n: int) -> str:
    """A different query string each time, over all four filters the API keys on."""
    day = date(2027, 1, 1) + timedelta(days=n)
    return [
        f"format=erfunden-{n}",
        f"organisation=niemand-{n}",
        f"from={day}",
        f"to={day}&format=x{n}",
    ][n % 4]


def test_made_up_query_strings_cannot_push_real_pages_out(slow_recheck_app, monkeypatch):
    app = slow_recheck_app
    session_id = _session(app)
    now = utcnow()
    monkeypatch.setattr("eventsapp.pagecache.utcnow", lambda: now)  # no page ages meanwhile
    visitor = app.test_client()
    for url in ("/", "/api/v1/sessions", f"/sessions/{session_id}"):
        assert visitor.get(url).status_code == 200
    cache = app.extensions["eventsapp.page_cache"]
    kept = dict(cache.pages)
    assert {(k.endpoint, k.query) for k in kept} == {
        ("public.home", ()),
        ("api.sessions", ()),
        ("public.session_detail", ()),
    }

    for n in range(1000):
        response = visitor.get(f"/api/v1/sessions?{_made_up_query(n)}")
        assert response.status_code == 200, n

    # The made-up answers were kept, but only among themselves and within their bounds ...
    assert 0 < len(cache.variants) <= cache.max_variants_per_page <= cache.max_variants
    assert all(k.endpoint == "api.sessions" and k.query for k in cache.variants)
    # ... and every page asked for without a query string is still there, the same object.
    assert cache.pages.keys() == kept.keys()
    assert all(cache.pages[key] is page for key, page in kept.items())

    # Asked for again, they come from the cache: nothing is rendered or counted anew.
    rendered = []

    def record(sender, template, context, **extra) -> None:
        rendered.append(template.name)

    def counted_again(*args, **kwargs):
        raise AssertionError("the API built its answer again")

    monkeypatch.setattr("eventsapp.api.routes.seat_counts_for", counted_again)
    with template_rendered.connected_to(record, app):
        home = visitor.get("/")
        api = visitor.get("/api/v1/sessions")
    assert home.status_code == 200 and "Blick in die Polizei" in home.get_data(as_text=True)
    assert api.status_code == 200 and api.json[0]["id"] == session_id
    assert rendered == []


def test_a_path_written_differently_is_the_same_page(slow_recheck_app):
    app = slow_recheck_app
    session_id = _session(app)
    visitor = app.test_client()
    first = visitor.get(f"/sessions/{session_id}").get_data(as_text=True)
    cache = app.extensions["eventsapp.page_cache"]
    kept = dict(cache.pages)
    for zeros in range(1, 300):  # /sessions/01, /sessions/001, ... all show session 1
        page = visitor.get(f"/sessions/{'0' * zeros}{session_id}").get_data(as_text=True)
        assert CSRF_RE.sub("", page) == CSRF_RE.sub("", first)
    assert cache.pages.keys() == kept.keys()
