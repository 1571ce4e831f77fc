"""A date's own texts (interpreting, note, meeting point …, the reason it was called off)
can be entered per language; where one is missing the German text is shown, marked German."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.mail.notifications import render
from eventsapp.models import OrganisationKind, OutboxMessage, Role, Session
from eventsapp.services import registrations as rules
from tests.conftest import csrf_token, login, make_app
from tests.factories import applicant, make_format, make_organisation, make_session, make_user
from tests.test_accessibility import violations
from tests.test_hostile_input import hostile

GERMAN = ' lang="de" dir="ltr"'


def _world(app) -> dict:
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, name="Polizeipräsidium Dortmund")
        other = make_organisation(OrganisationKind.HOST, name="Stadt Dortmund")
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        make_user(Role.ORGANISER, other, email="ole@stadt.example")
        format = make_format(host, title="Blick in die Polizei")
        session = make_session(
            format,
            interpreting="Dolmetschen ins Arabische",
            note="Bitte 15 Minuten früher kommen.",
        )
        session.practical = {"meeting_point": "Seiteneingang Hohe Straße"}
        rules.register_for_session(
            session, applicant(name="Ayşe", email="ayse@example.org", language="ar"), now=utcnow()
        )
        rules.register_for_session(
            session, applicant(name="Jan", email="jan@example.org", language="de"), now=utcnow()
        )
        db.session.commit()
        return {"session": session.id}


def _organiser(app, email: str = "kim@polizei.example"):
    client = app.test_client()
    assert login(client, email).status_code == 303
    return client


def test_an_organiser_translates_a_dates_own_texts(app):
    ids = _world(app)
    client = _organiser(app)
    url = f"/organiser/sessions/{ids['session']}/translations"
    page = client.get(url).get_data(as_text=True)
    # Only what the date has in German is offered.
    assert 'name="note_ar"' in page and 'name="meeting_point_ar"' in page
    assert 'name="cancel_reason_ar"' not in page and 'name="what_to_bring_ar"' not in page
    answer = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "note_ar": "يرجى الحضور قبل 15 دقيقة.",
            "meeting_point_ar": "المدخل الجانبي",
            "interpreting_tr": "Arapçaya çeviri",
            "what_to_bring_ar": "not offered, not kept",
        },
    )
    assert answer.status_code == 303
    with app.app_context():
        session = db.session.get(Session, ids["session"])
        assert session.translations == {
            "ar": {"note": "يرجى الحضور قبل 15 دقيقة.", "meeting_point": "المدخل الجانبي"},
            "tr": {"interpreting": "Arapçaya çeviri"},
        }
    visitor = app.test_client()
    arabic = visitor.get(f"/sessions/{ids['session']}?lang=ar").get_data(as_text=True)
    assert "<p>يرجى الحضور قبل 15 دقيقة.</p>" in arabic
    assert "<dd>المدخل الجانبي</dd>" in arabic
    assert f"<span{GERMAN}>Dolmetschen ins Arabische</span>" in arabic  # no Arabic given
    turkish = visitor.get(f"/sessions/{ids['session']}?lang=tr").get_data(as_text=True)
    assert "<span>Arapçaya çeviri</span>" in turkish
    assert f"<p{GERMAN}>Bitte 15 Minuten früher kommen.</p>" in turkish
    # The form shows what was saved.
    page = client.get(url).get_data(as_text=True)
    assert "المدخل الجانبي" in page


def test_calling_a_date_off_with_the_reason_in_arabic(app):
    ids = _world(app)
    client = _organiser(app)
    page = f"/organiser/sessions/{ids['session']}"
    token = csrf_token(client, page)
    data = {
        "csrf_token": token,
        "reason": "Der Referent ist erkrankt.",
        "reason_ar": "المحاضر مريض.",
    }
    question = client.post(f"{page}/cancel", data=data).get_data(as_text=True)
    assert "المحاضر مريض." in question
    assert 'name="reason_ar" value="المحاضر مريض."' in question
    done = client.post(f"{page}/cancel", data={**data, "confirmed": "1"})
    assert done.status_code == 303
    visitor = app.test_client()
    arabic = visitor.get(f"/sessions/{ids['session']}?lang=ar").get_data(as_text=True)
    assert "<p>المحاضر مريض.</p>" in arabic
    french = visitor.get(f"/sessions/{ids['session']}?lang=fr").get_data(as_text=True)
    assert f"<p{GERMAN}>Der Referent ist erkrankt.</p>" in french
    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.deferred_template == "session_cancelled")
        ).scalars()
        bodies = {
            m.recipient: render(
                m.deferred_template, m.registration_id, m.language, None, m.context
            ).body_text
            for m in rows
        }
    assert "المحاضر مريض." in bodies["ayse@example.org"]
    assert "Der Referent ist erkrankt." not in bodies["ayse@example.org"]
    assert "Der Referent ist erkrankt." in bodies["jan@example.org"]


def test_another_hosts_organiser_gets_404(app):
    ids = _world(app)
    client = _organiser(app, "ole@stadt.example")
    url = f"/organiser/sessions/{ids['session']}/translations"
    assert client.get(url).status_code == 404
    token = csrf_token(client, "/auth/account")
    assert client.post(url, data={"csrf_token": token, "note_ar": "x"}).status_code == 404
    with app.app_context():
        assert db.session.get(Session, ids["session"]).translations in ({}, None)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(["note_ar", "interpreting_tr", "meeting_point_uk", "note_fr"]),
    text=hostile,
)
def test_hostile_input_on_the_translations_form(tmp_path_factory, field, text):
    app = make_app(tmp_path_factory.mktemp("hostile"))
    with app.app_context():
        db.create_all()
    ids = _world(app)
    client = _organiser(app)
    url = f"/organiser/sessions/{ids['session']}/translations"
    answer = client.post(url, data={"csrf_token": csrf_token(client, url), field: text})
    assert answer.status_code in (303, 422)
    with app.app_context():
        saved = db.session.get(Session, ids["session"]).translations or {}
    if answer.status_code == 422:
        assert saved == {}
        assert "<script>alert" not in answer.get_data(as_text=True)
    language = field.rsplit("_", 1)[1]
    page = app.test_client().get(f"/sessions/{ids['session']}?lang={language}")
    assert page.status_code == 200
    assert "<script>alert" not in page.get_data(as_text=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_translation_pages_have_no_wcag_violations(live_app, browser, language, width):
    app, base = live_app
    ids = _world(app)
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="de-DE")
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.locator("#email").fill("kim@polizei.example")
    page.locator("#password").fill("correct horse battery staple")
    page.locator("form button[type=submit]").click()
    found = {}
    page.goto(f"{base}/organiser/sessions/{ids['session']}/translations?lang={language}")
    found["translations"] = violations(page)
    # Past the input's own limit (as a browser that ignores maxlength would send it).
    page.locator("#note_ar").evaluate("input => input.removeAttribute('maxlength')")
    page.locator("#note_ar").fill("x" * 2001)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    found["translations with an error"] = violations(page)
    page.goto(f"{base}/organiser/sessions/{ids['session']}?lang={language}")
    page.locator("details.more-languages summary").click()
    expect(page.locator("#reason_ar")).to_be_visible()
    found["cancel form, more languages"] = violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
    assert {k: v for k, v in found.items() if v} == {}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=hostile)
def test_hostile_reason_in_another_language(tmp_path_factory, text):
    """The cancel form's reason in Arabic: refused with nothing written, or kept and shown
    escaped on the page and in the Arabic registrant's mail."""
    app = make_app(tmp_path_factory.mktemp("hostile"))
    with app.app_context():
        db.create_all()
    ids = _world(app)
    client = _organiser(app)
    page = f"/organiser/sessions/{ids['session']}"
    data = {"csrf_token": csrf_token(client, page), "reason": "Krankheit", "reason_ar": text}
    first = client.post(f"{page}/cancel", data=data)
    assert first.status_code in (200, 422)
    assert "<script>alert" not in first.get_data(as_text=True)
    if first.status_code == 200:
        done = client.post(f"{page}/cancel", data={**data, "confirmed": "1"})
        assert done.status_code == 303
        shown = app.test_client().get(f"/sessions/{ids['session']}?lang=ar")
        assert "<script>alert" not in shown.get_data(as_text=True)
        with app.app_context():
            row = db.session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == "ayse@example.org")
                .where(OutboxMessage.deferred_template == "session_cancelled")
            ).scalar_one()
            mail = render(row.deferred_template, row.registration_id, "ar", None, row.context)
            assert "<script>alert" not in mail.body_html
    else:
        with app.app_context():
            session = db.session.get(Session, ids["session"])
            assert session.status == "published" and not session.translations
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
