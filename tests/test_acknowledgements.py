"""A form that comes back to its own page says what it did inside its own section, with the
address pointing there (`#<section>-done`), in a box a screen reader reads out first."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from eventsapp.database import db
from eventsapp.models import OrganisationKind, Role, Visibility
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_format, make_organisation, make_session, make_user
from tests.test_accessibility import violations

ORGANISER = "kim@polizei.example"
ADMIN = "admin@polizei.example"


def _world(app) -> dict:
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, name="Polizeipräsidium Dortmund")
        partner = make_organisation(OrganisationKind.PARTNER, name="VMDO")
        make_user(Role.ORGANISER, host, email=ORGANISER)
        make_user(Role.ADMIN, None, email=ADMIN)
        make_user(Role.PARTNER, partner, email="deniz@vmdo.example")
        format = make_format(host, title="Blick in die Polizei", slug="blick")
        session = make_session(format, capacity=10)
        make_format(host, title="Werkstatt", slug="werkstatt", visibility=Visibility.PARTNERS)
        db.session.commit()
        return {"session": session.id, "partner": partner.id, "day": session.starts_at}


def _in_section(html: str, near: str, message: str) -> None:
    """`message` is in the box `#<near>-done` (role=status, focused on load), and not among
    the messages at the top of the page."""
    box = re.search(
        rf'<div class="flashes acknowledgement" id="{near}-done"[^>]*>(.*?)</div>', html, re.S
    )
    assert box, f"no acknowledgement box for {near}"
    assert 'role="status"' in box.group(0) and "autofocus" in box.group(0)
    assert message in box.group(1)
    top = html.split('<main id="main"', 1)[1].split(f'id="{near}-done"', 1)[0]
    assert '<div class="flashes" role="status">' not in top


def test_subscribing_is_answered_in_the_subscription_box(app):
    _world(app)
    client = app.test_client()
    data = {
        "csrf_token": csrf_token(client, "/formats/blick"),
        "email": "ayse@example.org",
        "language": "de",
    }
    answer = client.post("/formats/blick/subscribe", data=data)
    assert answer.headers["Location"] == "/formats/blick#subscribe-done"
    _in_section(client.get("/formats/blick").get_data(as_text=True), "subscribe", "Fast geschafft")
    # Shown once: gone on the next visit.
    assert 'id="subscribe-done"' not in client.get("/formats/blick").get_data(as_text=True)


def test_account_settings_are_answered_where_they_were_changed(app):
    _world(app)
    client = app.test_client()
    login(client, "deniz@vmdo.example")
    token = csrf_token(client, "/auth/account")
    answer = client.post("/auth/account/feed", data={"csrf_token": token})
    assert answer.headers["Location"] == "/auth/account#calendar-done"
    _in_section(
        client.get("/auth/account").get_data(as_text=True),
        "calendar",
        "Ihr Kalender hat eine neue Adresse",
    )
    answer = client.post("/auth/account/follow", data={"csrf_token": token})
    assert answer.headers["Location"] == "/auth/account#follow-done"
    _in_section(client.get("/auth/account").get_data(as_text=True), "follow", "Gespeichert.")


def test_back_office_forms_are_answered_in_their_section(app):
    ids = _world(app)
    client = app.test_client()
    login(client, ORGANISER)
    page = f"/organiser/sessions/{ids['session']}"
    release = ids["day"] - timedelta(days=2)
    answer = client.post(
        f"{page}/contingents",
        data={
            "csrf_token": csrf_token(client, page),
            "organisation": str(ids["partner"]),
            "seats": "3",
            "release_date": release.strftime("%Y-%m-%d"),
            "release_time": "12:00",
        },
    )
    assert answer.headers["Location"] == f"{page}#contingents-done"
    _in_section(client.get(page).get_data(as_text=True), "contingents", "Kontingent gespeichert.")

    answer = client.post(
        f"{page}/registrations",
        data={
            "csrf_token": csrf_token(client, page),
            "name": "Olena Kovalenko",
            "email": "olena@example.org",
            "language": "de",
        },
    )
    assert answer.headers["Location"] == f"{page}#add-done"
    _in_section(client.get(page).get_data(as_text=True), "add", "Olena Kovalenko ist eingetragen")

    admin = app.test_client()
    login(admin, ADMIN)
    answer = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf_token(admin, "/admin/users"),
            "name": "Jan Nowak",
            "email": "jan@ifak.example",
            "role": "partner",
            "organisation": str(ids["partner"]),
            "language": "de",
        },
    )
    assert answer.headers["Location"] == "/admin/users#invite-done"
    _in_section(admin.get("/admin/users").get_data(as_text=True), "invite", "Einladung an")


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_answer_is_focused_in_view_and_accessible(live_app, browser, language, width):
    app, base = live_app
    _world(app)
    context = browser.new_context(viewport={"width": width, "height": 640}, locale="de-DE")
    page = context.new_page()
    page.goto(f"{base}/formats/blick?lang={language}")
    page.locator("#subscribe input[type=email]").fill("ayse@example.org")
    page.locator("#subscribe button[type=submit]").click()
    box = page.locator("#subscribe-done")
    expect(box).to_be_focused()
    expect(box).to_be_in_viewport()
    assert violations(page) == []
    context.close()


def test_a_form_that_leads_to_another_page_is_answered_at_its_top(app):
    """Signing out leads to the login page: the answer stands at its top."""
    _world(app)
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"csrf_token": token, "email": ORGANISER, "password": PASSWORD})
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<div class="flashes" role="status">' in html and "Sie sind ausgeloggt." in html
