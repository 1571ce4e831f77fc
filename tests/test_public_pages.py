"""The public pages and the registration flow over HTTP, including what bad input gets."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.models import (
    OutboxMessage,
    PersonalFeed,
    Registration,
    Session,
    SessionStatus,
    Visibility,
)
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import csrf_token
from tests.factories import applicant, make_format, make_session


@pytest.fixture
def session_id(app) -> int:
    with app.app_context():
        session = make_session(make_format(title="Blick in die Polizei"), capacity=2)
        db.session.commit()
        return session.id


def form_data(client, session_id: int, token_from: int | None = None, **values) -> dict:
    """A filled-in registration form, CSRF token included (taken from a page with a form)."""
    data = {
        "name": "Ayşe Demir",
        "email": "ayse@example.org",
        "organisation": "",
        "language": "de",
        "consent": "y",
        "csrf_token": csrf_token(client, f"/sessions/{token_from or session_id}"),
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def written(app) -> tuple[int, int, int]:
    """How many registrations, mails and calendar feed rows exist: bad input must change
    none of them."""
    with app.app_context():
        return tuple(
            db.session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Registration, OutboxMessage, PersonalFeed)
        )


def test_home_lists_upcoming_public_sessions_by_format(app, client):
    with app.app_context():
        police = make_format(title="Blick in die Polizei")
        make_session(police)
        make_session(police, starts_at=utcnow() + timedelta(days=40))
        make_session(make_format(title="Blick in die Organisation"))
        make_session(make_format(title="Geheimes Format", visibility=Visibility.PARTNERS))
        make_session(make_format(title="Entwurf"), status=SessionStatus.DRAFT)
        make_session(make_format(title="Vorbei"), starts_at=utcnow() - timedelta(days=2))
        db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert html.count('class="session-card"') == 3
    assert "Blick in die Polizei" in html and "Blick in die Organisation" in html
    for hidden in ("Geheimes Format", "Entwurf", "Vorbei"):
        assert hidden not in html


def test_session_page_shows_date_venue_host_and_seats(client, session_id):
    html = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "Polizeipräsidium Dortmund" in html
    assert "Markgrafenstraße 102" in html
    assert "2 Plätze frei" in html
    assert re.search(r"\d\d:\d\d–\d\d:\d\d Uhr", html)
    assert 'name="csrf_token"' in html


def mailed_manage_url(app, email: str = "ayse@example.org") -> str:
    """The manage link the registration's mail carries (the only way to it)."""
    with app.app_context():
        registration = (
            db.session.execute(
                select(Registration)
                .where(Registration.email == email)
                .order_by(Registration.id.desc())
            )
            .scalars()
            .first()
        )
        return f"/registrations/{manage_token(registration)}"


def test_register_view_and_cancel_with_the_personal_link(app, client, session_id):
    response = client.post(f"/sessions/{session_id}/register", data=form_data(client, session_id))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/sessions/{session_id}/registered"
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Wir haben Ihnen eine E-Mail geschickt." in sent
    manage_url = mailed_manage_url(app)
    page = client.get(manage_url).get_data(as_text=True)
    assert "Sie sind angemeldet." in page
    assert "Ayşe Demir" in page

    token = manage_url.rsplit("/", 1)[1]
    data = {"csrf_token": csrf_token(client, manage_url), "confirmed": "1"}
    response = client.post(f"/registrations/{token}/cancel", data=data)
    assert response.status_code == 303
    page = client.get(manage_url).get_data(as_text=True)
    assert "Diese Anmeldung ist storniert." in page
    assert "Ihre Anmeldung ist storniert. Eine Bestätigung ist unterwegs." in page


def test_a_visitors_registration_leaves_their_session_cookie_alone(client, session_id):
    """Visitors who are not signed in keep the cookie the form page gave them: posting the
    form neither rewrites it nor adds anything to it."""
    data = form_data(client, session_id)
    before = client.get_cookie("session").value
    response = client.post(f"/sessions/{session_id}/register", data=data)
    assert response.status_code == 303
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert client.get_cookie("session").value == before


def test_full_session_puts_people_on_the_waitlist_with_their_position(app, client, session_id):
    with app.app_context():
        session = db.session.get(Session, session_id)
        for n in range(2):
            rules.register_for_session(session, applicant(n), now=utcnow())
        db.session.commit()
    html = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "Ausgebucht" in html and "Auf die Warteliste setzen" in html
    client.post(f"/sessions/{session_id}/register", data=form_data(client, session_id))
    page = client.get(mailed_manage_url(app)).get_data(as_text=True)
    assert "Sie stehen auf der Warteliste, auf Platz 1." in page


def test_second_registration_with_the_same_email_sends_the_link_again(app, client, session_id):
    first = client.post(f"/sessions/{session_id}/register", data=form_data(client, session_id))
    response = client.post(
        f"/sessions/{session_id}/register",
        data=form_data(client, session_id, email="AYSE@example.org"),
    )
    assert response.status_code == 303
    assert response.headers["Location"] == first.headers["Location"]
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Registration)).scalar_one() == 1
        keys = db.session.execute(select(OutboxMessage.dedupe_key)).scalars().all()
        assert len(keys) == 2 and any(":link:" in key for key in keys)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"email": None}, "Bitte geben Sie Ihre E-Mail-Adresse an."),
        ({"email": ""}, "Bitte geben Sie Ihre E-Mail-Adresse an."),
        ({"email": "ayse@"}, "Bitte geben Sie eine gültige E-Mail-Adresse an"),
        ({"email": "ayse@example..org"}, "Bitte geben Sie eine gültige E-Mail-Adresse an"),
        ({"name": ""}, "Bitte geben Sie Ihren Namen an."),
        ({"name": "A" * 2000}, "Der Name darf höchstens 120 Zeichen lang sein."),
        ({"name": "Ayşe\x00Demir"}, "Bitte verwenden Sie nur Buchstaben"),
        ({"name": "Ayşe\u2028Demir"}, "Bitte verwenden Sie nur Buchstaben"),
        ({"name": "Ayşe\x1b[31mDemir"}, "Bitte verwenden Sie nur Buchstaben"),
        ({"organisation": "x" * 201}, "höchstens 200 Zeichen"),
        ({"consent": None}, "Ohne Ihr Einverständnis"),
        ({"language": "xx"}, "Bitte wählen Sie eine Sprache aus der Liste."),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_writes_nothing(
    app, client, session_id, values, message
):
    data = form_data(client, session_id, **values)
    response = client.post(f"/sessions/{session_id}/register", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert 'role="alert"' in html  # the summary above the form links to the field
    if "language" not in values:  # a single language is a hidden field, not shown
        assert 'aria-invalid="true"' in html
    assert written(app) == (0, 0, 0)
    if values.get("name", "").startswith("Ayşe"):
        return
    if "name" not in values:  # what the person typed is kept
        assert 'value="Ayşe Demir"' in html


def test_missing_or_wrong_csrf_token_is_refused_and_the_input_kept(app, client, session_id):
    for token in (None, "forged"):
        data = form_data(client, session_id, csrf_token=token)
        response = client.post(f"/sessions/{session_id}/register", data=data)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "Das Formular war zu lange geöffnet" in html
        assert 'value="Ayşe Demir"' in html and 'value="ayse@example.org"' in html
        assert 'name="csrf_token"' in html  # a fresh token to send it again with
    assert written(app) == (0, 0, 0)


def test_an_expired_form_can_be_sent_again(app, client, session_id):
    from datetime import datetime as real_datetime
    from unittest import mock

    earlier = real_datetime.now() - timedelta(hours=9)  # past WTF_CSRF_TIME_LIMIT (8 h)
    with mock.patch("itsdangerous.timed.time.time", return_value=earlier.timestamp()):
        data = form_data(client, session_id)  # the form was opened in the morning
    response = client.post(f"/sessions/{session_id}/register", data=data)
    assert response.status_code == 400
    fresh = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)
    ).group(1)
    again = client.post(f"/sessions/{session_id}/register", data={**data, "csrf_token": fresh})
    assert again.status_code == 303
    assert written(app)[0] == 1


def test_unknown_session_and_token_are_404(client, session_id):
    # An anonymous visitor is asked to sign in (as for a partners-only date, so that the
    # answer tells nothing); the form posted to it finds nothing.
    assert client.get("/sessions/999999").headers["Location"] == "/auth/login?next=/sessions/999999"
    assert client.post("/sessions/999999/register", data={}).status_code in (400, 404)
    assert client.get("/registrations/not-a-token").status_code == 404
    assert client.get(f"/registrations/{'x' * 500}").status_code == 404
    assert client.get("/sessions/abc").status_code == 404


def test_valid_registrations_for_sessions_out_of_sight_are_404_and_write_nothing(app, client):
    """A complete form with a good token, posted to a session the visitor cannot open."""
    with app.app_context():
        draft = make_session(status=SessionStatus.DRAFT)
        partners_only = make_session(make_format(visibility=Visibility.PARTNERS))
        open_session = make_session()
        db.session.commit()
        ids, open_id = (draft.id, partners_only.id, 999999), open_session.id
    for session_id in ids:
        data = form_data(client, session_id, token_from=open_id)
        response = client.post(f"/sessions/{session_id}/register", data=data)
        assert response.status_code == 404, session_id
    assert written(app) == (0, 0, 0)
    response = client.post(
        f"/sessions/{open_id}/register", data=form_data(client, open_id), follow_redirects=False
    )
    assert response.status_code == 303
    assert written(app) == (1, 1, 0)  # a calendar feed only when the person asks for one


def test_drafts_are_invisible(app, client):
    with app.app_context():
        draft_id = make_session(status=SessionStatus.DRAFT).id
        db.session.commit()
    answer = client.get(f"/sessions/{draft_id}")
    assert answer.status_code == 302  # the same answer as for any page out of sight
    assert answer.headers["Location"] == f"/auth/login?next=/sessions/{draft_id}"


@pytest.mark.parametrize("state", ["cancelled", "past", "started"])
def test_closed_sessions_take_no_registration(app, client, state):
    with app.app_context():
        if state == "cancelled":
            session = make_session(status=SessionStatus.CANCELLED, cancel_reason="Krankheit")
        elif state == "past":
            session = make_session(starts_at=utcnow() - timedelta(days=3))
        else:
            session = make_session(starts_at=utcnow() - timedelta(minutes=5))
        open_session = make_session()
        db.session.commit()
        session_id, open_id = session.id, open_session.id
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert 'action="/sessions/' not in page  # no form offered
    data = form_data(client, session_id, token_from=open_id)
    response = client.post(f"/sessions/{session_id}/register", data=data)
    assert response.status_code == 409
    assert "keine Anmeldung mehr möglich" in response.get_data(as_text=True)
    assert written(app) == (0, 0, 0)


def test_cancel_after_start_is_refused_and_changes_nothing(app, client):
    with app.app_context():
        session = make_session(starts_at=utcnow() + timedelta(days=1))
        registration = rules.register_for_session(session, applicant(1), now=utcnow())
        token = manage_token(registration)
        db.session.commit()
        session_id = session.id
    # The confirmation page was open ...
    data = {"csrf_token": csrf_token(client, f"/registrations/{token}"), "confirmed": "1"}
    with app.app_context():  # ... while the session began
        db.session.get(Session, session_id).starts_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page = client.get(f"/registrations/{token}").get_data(as_text=True)
    assert "Anmeldung stornieren" not in page
    response = client.post(f"/registrations/{token}/cancel", data=data, follow_redirects=True)
    assert "kann nicht mehr storniert werden" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Registration.status)).scalar_one() == "confirmed"


def test_pages_set_privacy_and_security_headers(client, session_id):
    response = client.get(f"/sessions/{session_id}")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_reports_database_and_backlog(client, session_id):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "outbox_backlog": 0,
        "oldest_due_seconds": 0,
    }


def test_fields_without_errors_carry_no_empty_aria_attributes(client, session_id):
    html = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert '="None"' not in html
    assert "aria-invalid" not in html


def test_page_titles_are_plain_text(client, session_id):
    for url in ("/", f"/sessions/{session_id}", "/privacy"):
        html = client.get(url).get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
        assert "<" not in title and len(title) < 200, url


def test_nul_bytes_anywhere_get_a_clear_400(client, session_id):
    assert client.get("/formats/ab%00cd").status_code == 400
    assert client.get("/?q=%00").status_code == 400
    data = form_data(client, session_id, organisation="a\x00b")
    response = client.post(f"/sessions/{session_id}/register", data=data)
    assert response.status_code == 422  # a form field says it next to the field
    assert "Bitte verwenden Sie nur Buchstaben" in response.get_data(as_text=True)


def test_a_filled_honeypot_is_answered_like_success_and_writes_nothing(app, client, session_id):
    data = form_data(client, session_id, website="http://spam.example")
    response = client.post(f"/sessions/{session_id}/register", data=data)
    assert response.status_code == 303
    assert written(app) == (0, 0, 0)
    html = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert 'class="hp"' in html and 'name="website"' in html


def test_healthz_shows_how_long_mail_has_waited(app, client):
    with app.app_context():
        session = make_session()
        rules.register_for_session(session, applicant(1), now=utcnow() - timedelta(minutes=5))
        db.session.commit()
    body = client.get("/healthz").json
    assert body["outbox_backlog"] == 1 and 290 <= body["oldest_due_seconds"] <= 400


def test_https_responses_carry_hsts(client, session_id):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://eventsapp.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" in client.get("/nowhere", base_url="https://x").headers


def test_a_manage_link_opens_in_the_registrations_language_unless_the_visitor_chose(app):
    with app.app_context():
        session = make_session()
        registration = rules.register_for_session(
            session, applicant("t", language="tr"), now=utcnow()
        )
        db.session.commit()
        url = f"/registrations/{manage_token(registration)}"
    browser_in_german = {"Accept-Language": "de-DE,de;q=0.9"}
    page = app.test_client().get(url, headers=browser_in_german).get_data(as_text=True)
    assert '<html lang="tr"' in page
    chose = app.test_client()
    chose.set_cookie("lang", "en")
    assert '<html lang="en"' in chose.get(url).get_data(as_text=True)
    assert '<html lang="fr"' in chose.get(url + "?lang=fr").get_data(as_text=True)
