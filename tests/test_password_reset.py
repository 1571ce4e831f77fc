"""Forgotten passwords: the same answer for every address, a mail only to an active account,
a link that works once and for an hour, in the account's language; the rate limit; hostile
input; a journey in real Chromium at 375 px, and axe-core on every page of it."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from flask_babel import force_locale, gettext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.models import AccessLink, OutboxMessage, Role, User
from eventsapp.services import accounts, password_reset
from tests.conftest import csrf_token, login, make_app
from tests.factories import PASSWORD, make_user
from tests.test_accessibility import violations
from tests.test_hostile_input import hostile as common_hostile

ACTIVE = "kim@polizei.example"
BLOCKED = "gesperrt@polizei.example"
INVITED = "eingeladen@polizei.example"
UNKNOWN = "niemand@polizei.example"
NEW_PASSWORD = "ein ganz neuer Satz als Passwort"
SENT = "Wenn es ein Konto mit dieser Adresse gibt, haben wir einen Link geschickt"
VOID = "Dieser Link gilt nicht mehr"
LINK_RE = re.compile(r"https?://\S+(/auth/set-password/[\w-]+\?lang=\w+)")


NAME = "Kim Yılmaz"


def _people(app, language: str = "de") -> None:
    """An active account (with a password), a blocked one and an invited one (none yet)."""
    with app.app_context():
        make_user(Role.ORGANISER, email=ACTIVE, name=NAME).language = language
        make_user(Role.ORGANISER, email=BLOCKED).active = False
        make_user(Role.PARTNER, email=INVITED, password=None)
        db.session.commit()


def _ask(client, email: str, page: str = "/auth/reset-password"):
    token = csrf_token(client, page)
    return client.post(page, data={"email": email, "csrf_token": token})


def _links_mailed(app, smtp_server, email: str) -> list[str]:
    """Deliver what is due through the SMTP server; the set-password links `email` got."""
    with app.app_context():
        deliver_due(now=utcnow())
    return [
        LINK_RE.search(mail.get_body(("plain",)).get_content()).group(1)
        for mail in smtp_server.sink.to(email)
    ]


def _set(client, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    token = csrf_token(client, link)
    data = {"password": password, "confirm": confirm or password, "csrf_token": token}
    return client.post(link, data=data)


def _post_csrf(client) -> str:
    """A CSRF token of the visitor's session, for a form whose own page will not show."""
    return csrf_token(client, "/auth/reset-password")


def _outbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(OutboxMessage.id)))


# --- the same answer for every address, a mail only to active accounts ---------------------


def test_every_address_gets_the_same_answer_and_only_active_accounts_a_mail(mail_app, smtp_server):
    _people(mail_app)
    answers = {}
    for email in (ACTIVE, UNKNOWN, BLOCKED, INVITED):
        client = mail_app.test_client()
        response = _ask(client, email)
        follow = client.get(response.headers["Location"])
        answers[email] = (
            response.status_code,
            response.headers["Location"],
            response.get_data(as_text=True),
            sorted(h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie")),
            follow.status_code,
            follow.get_data(as_text=True),
        )
    assert answers[ACTIVE][:2] == (303, "/auth/reset-password/sent")
    assert SENT in answers[ACTIVE][5]
    assert answers[UNKNOWN] == answers[ACTIVE]
    assert answers[BLOCKED] == answers[ACTIVE]
    assert answers[INVITED] == answers[ACTIVE]

    assert len(_links_mailed(mail_app, smtp_server, ACTIVE)) == 1
    # The invited account is active too: the link lets it set its first password.
    assert len(_links_mailed(mail_app, smtp_server, INVITED)) == 1
    assert smtp_server.sink.to(BLOCKED) == [] and smtp_server.sink.to(UNKNOWN) == []
    assert len(smtp_server.sink.messages) == 2
    mail = smtp_server.sink.to(ACTIVE)[0]
    assert mail["Subject"] == "Neues Passwort für Dialog-Termine"
    text = mail.get_body(("plain",)).get_content()
    assert "Der Link gilt 1 Stunde und nur einmal." in text
    assert "Neues Passwort festlegen" in mail.get_body(("html",)).get_content()


def test_the_login_page_leads_to_the_form_and_bad_addresses_are_refused_in_place(client):
    login_page = client.get("/auth/login").get_data(as_text=True)
    assert '<a href="/auth/reset-password">Passwort vergessen?</a>' in login_page
    page = client.get("/auth/reset-password").get_data(as_text=True)
    assert "<h1>Passwort vergessen?</h1>" in page and 'autocomplete="username"' in page
    for email, message in (
        ("", "Bitte geben Sie Ihre E-Mail-Adresse an."),
        ("kein at-zeichen", "Bitte geben Sie eine gültige E-Mail-Adresse an"),
    ):
        response = _ask(client, email)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)


# --- the link: once, for an hour, only the newest, in the account's language ---------------


def test_the_link_sets_a_new_password_once_and_ends_other_sessions(mail_app, smtp_server):
    _people(mail_app)
    laptop = mail_app.test_client()
    assert login(laptop, ACTIVE).status_code == 303
    visitor = mail_app.test_client()
    _ask(visitor, ACTIVE)
    (link,) = _links_mailed(mail_app, smtp_server, ACTIVE)

    form = visitor.get(link)
    assert form.status_code == 200
    assert "<h1>Neues Passwort festlegen</h1>" in form.get_data(as_text=True)
    assert form.headers["Cache-Control"] == "no-store"
    mismatch = _set(visitor, link, NEW_PASSWORD, "something else entirely")
    assert mismatch.status_code == 422
    assert "stimmen nicht überein" in mismatch.get_data(as_text=True)

    done = _set(visitor, link)
    assert done.status_code == 303 and done.headers["Location"] == "/auth/login"
    assert "Ihr Passwort ist gespeichert." in visitor.get("/auth/login").get_data(as_text=True)
    assert laptop.get("/organiser/").status_code == 302  # the other session has ended

    again = visitor.get(link)
    assert again.status_code == 404
    body = again.get_data(as_text=True)
    assert VOID in body and 'href="/auth/reset-password"' in body
    with mail_app.app_context():
        link_rows = db.session.scalar(select(func.count(AccessLink.id)))
    assert link_rows == 0  # nothing left to open: only hashes were ever stored, and used up
    replay = visitor.post(
        link,
        data={
            "password": "yet another passphrase",
            "confirm": "yet another passphrase",
            "csrf_token": _post_csrf(visitor),
        },
    )
    assert replay.status_code == 404 and VOID in replay.get_data(as_text=True)
    assert login(mail_app.test_client(), ACTIVE, PASSWORD).status_code == 422
    assert login(mail_app.test_client(), ACTIVE, NEW_PASSWORD).status_code == 303


def test_the_link_expires_after_an_hour(mail_app, smtp_server):
    _people(mail_app)
    with mail_app.app_context():
        user = accounts.find_user_by_email(ACTIVE)
        now = utcnow()
        token = password_reset.send_reset_link(user, now=now)
        db.session.commit()
        later = now + timedelta(minutes=59)
        assert accounts.user_from_password_token(token, now=later) == user
        assert accounts.user_from_password_token(token, now=now + timedelta(minutes=61)) is None
        two_hours_on = now + timedelta(hours=2)
        assert accounts.set_password_with_link(token, NEW_PASSWORD, now=two_hours_on) is None
        # An invitation's link keeps its three days.
        invited = accounts.find_user_by_email(INVITED)
        invitation = accounts.password_link_token(invited, now=now)
        db.session.commit()
        assert accounts.user_from_password_token(invitation, now=now + timedelta(hours=71))
    (link,) = _links_mailed(mail_app, smtp_server, ACTIVE)
    client = mail_app.test_client()
    assert client.get(link).status_code == 200
    with mail_app.app_context():  # two hours pass for the link's own timestamps
        for row in db.session.execute(select(AccessLink)).scalars():
            row.created_at -= timedelta(hours=2)
            row.expires_at -= timedelta(hours=2)
        db.session.commit()
    expired = client.get(link)
    assert expired.status_code == 404
    assert VOID in expired.get_data(as_text=True)
    assert 'href="/auth/reset-password"' in expired.get_data(as_text=True)
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": _post_csrf(client)}
    late = client.post(link, data=data)
    assert late.status_code == 404 and VOID in late.get_data(as_text=True)
    assert login(client, ACTIVE, NEW_PASSWORD).status_code == 422  # nothing was set


def test_a_newer_request_or_a_password_change_ends_older_links(mail_app, smtp_server):
    _people(mail_app)
    client = mail_app.test_client()
    _ask(client, ACTIVE)
    _ask(client, ACTIVE)
    first, second = _links_mailed(mail_app, smtp_server, ACTIVE)
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200

    # Changing the password on the account page ends the outstanding link as well.
    login(client, ACTIVE)
    changed = client.post(
        "/auth/account",
        data={
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, "/auth/account"),
        },
    )
    assert changed.status_code == 303
    assert client.get(second).status_code == 404


def test_a_blocked_account_cannot_use_a_link_it_got_before(mail_app, smtp_server):
    _people(mail_app)
    _ask(mail_app.test_client(), ACTIVE)
    (link,) = _links_mailed(mail_app, smtp_server, ACTIVE)
    with mail_app.app_context():
        accounts.find_user_by_email(ACTIVE).active = False
        db.session.commit()
    response = mail_app.test_client().get(link)
    assert response.status_code == 404 and VOID in response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["tr", "ar"])
def test_mail_and_page_are_in_the_accounts_language(mail_app, smtp_server, language):
    _people(mail_app, language=language)
    _ask(mail_app.test_client(), ACTIVE, "/auth/reset-password?lang=de")  # asked in German
    (link,) = _links_mailed(mail_app, smtp_server, ACTIVE)
    assert link.endswith(f"?lang={language}")
    mail = smtp_server.sink.to(ACTIVE)[0]
    with mail_app.test_request_context(), force_locale(language):
        greeting = gettext("Guten Tag %(name)s,", name=NAME)
        skip = gettext("Zum Inhalt springen")
    assert greeting != f"Guten Tag {NAME},"
    assert mail.get_body(("plain",)).get_content().startswith(greeting)
    assert f'<html lang="{language}"' in mail.get_body(("html",)).get_content()

    visitor = mail_app.test_client()
    visitor.set_cookie("lang", "en")  # an earlier visit in English: the link's language wins
    page = visitor.get(link).get_data(as_text=True)
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in page and skip in page
    # The switcher on the page keeps the link: the visitor may choose another language.
    switch = re.search(r'href="(/auth/set-password/[^"]+lang=en)"', page).group(1)
    english = visitor.get(switch.replace("&amp;", "&")).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english and 'name="password"' in english


def test_the_invitation_link_opens_in_the_invitations_language(app):
    with app.app_context():
        user = make_user(Role.PARTNER, email=INVITED, password=None)
        user.language = "ar"
        accounts.invite_user(user, now=utcnow())
        db.session.commit()
        body = db.session.execute(select(OutboxMessage.body_text)).scalar_one()
    link = LINK_RE.search(body).group(1)
    assert link.endswith("?lang=ar")
    page = app.test_client().get(link).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "Neues Passwort festlegen" not in page  # no password yet: a first one is set


# --- rate limits ---------------------------------------------------------------------------


def test_the_limits_have_defaults_that_the_configuration_can_override(app, tmp_path):
    assert app.config["PASSWORD_RESET_RATE_LIMIT"] == "5 per minute"
    assert app.config["PASSWORD_RESET_RATE_LIMIT_PER_EMAIL"] == "3 per hour"
    other = make_app(tmp_path / "other", PASSWORD_RESET_RATE_LIMIT="1 per day")
    assert other.config["PASSWORD_RESET_RATE_LIMIT"] == "1 per day"


def test_a_flood_from_one_client_gets_the_readable_429_and_sends_nothing(tmp_path):
    app = make_app(tmp_path, PASSWORD_RESET_RATE_LIMIT="3 per minute")
    with app.app_context():
        db.create_all()
    _people(app)
    client = app.test_client()
    assert [_ask(client, email).status_code for email in (ACTIVE, UNKNOWN, BLOCKED)] == [303] * 3
    queued = _outbox_count(app)
    refused = _ask(client, INVITED)
    assert refused.status_code == 429
    assert "Zu viele Versuche" in refused.get_data(as_text=True)
    assert refused.headers.get("Retry-After")
    assert _outbox_count(app) == queued
    assert client.get("/auth/reset-password").status_code == 200  # reading is not limited


def test_one_address_is_limited_however_it_is_written_and_whether_it_exists(tmp_path):
    app = make_app(
        tmp_path,
        PASSWORD_RESET_RATE_LIMIT="1000 per minute",
        PASSWORD_RESET_RATE_LIMIT_PER_EMAIL="2 per hour",
    )
    with app.app_context():
        db.create_all()
    _people(app)
    client = app.test_client()
    for email in (ACTIVE, UNKNOWN):
        codes = [_ask(client, address).status_code for address in (email, email, email.upper())]
        assert codes == [303, 303, 429], email
    assert _outbox_count(app) == 2
    assert _ask(client, INVITED).status_code == 303  # other addresses are not held up


# --- hostile input -------------------------------------------------------------------------

# The suite's hostile strings (tests/test_hostile_input.py), and an account's own
# address with a header or markup attached.
hostile = st.one_of(
    common_hostile,
    st.sampled_from(
        [
            f"{ACTIVE}\r\nBcc: x@y.z",
            f"<script>alert(1)</script>@{ACTIVE.split('@')[1]}",
        ]
    ),
)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def open_site(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
    _people(app)
    return app


def _rows(app) -> dict:
    with app.app_context():
        return {t.name: db.session.execute(t.select()).all() for t in db.metadata.sorted_tables}


def _escaped(html: str) -> bool:
    return all(p not in html for p in ("<script>alert(1)</script>", "<img src=x onerror"))


def test_hostile_input_on_the_request_form(open_site):
    app = open_site
    client = app.test_client()
    token = csrf_token(client, "/auth/reset-password")

    @SETTINGS
    @given(email=st.one_of(hostile, st.builds("p{}@example.org".format, st.integers(0, 99))))
    def post(email):
        before = _rows(app)
        response = client.post("/auth/reset-password", data={"email": email, "csrf_token": token})
        html = response.get_data(as_text=True)
        assert response.status_code in (303, 422), email
        if response.status_code == 303:
            follow = client.get(response.headers["Location"])
            assert follow.status_code == 200
            html += follow.get_data(as_text=True)
        # Nobody with such an address has an account: no answer writes anything.
        assert _rows(app) == before, email
        assert _escaped(html), email

    post()


def test_hostile_input_on_the_set_password_form_and_link(open_site):
    app = open_site
    client = app.test_client()
    csrf = _post_csrf(client)

    def new_link() -> str:
        with app.app_context():
            user = accounts.find_user_by_email(ACTIVE)
            token = password_reset.send_reset_link(user, now=utcnow())
            db.session.commit()
        return f"/auth/set-password/{token}"

    links = [new_link()]

    @SETTINGS
    @given(password=hostile, confirm=hostile, path=hostile)
    def post(password, confirm, path):
        before = _rows(app)
        response = client.post(
            links[-1], data={"password": password, "confirm": confirm, "csrf_token": csrf}
        )
        html = response.get_data(as_text=True)
        assert response.status_code in (303, 422), (password, confirm)
        if response.status_code == 422:
            assert _rows(app) == before, (password, confirm)  # refused input writes nothing
        else:  # a valid password: the link is used up, the next example gets a new one
            links.append(new_link())
        assert _escaped(html)
        forged = client.get(f"/auth/set-password/{quote(path, safe='')}")
        assert forged.status_code in (400, 404), path
        if re.fullmatch(r"[^/\x00]+", path) and path not in (".", ".."):
            assert VOID in forged.get_data(as_text=True), path
        assert _escaped(forged.get_data(as_text=True))

    post()


# --- in real Chromium ----------------------------------------------------------------------


def test_a_person_resets_the_password_on_a_phone(live_app, smtp_server, browser):
    app, base = live_app
    _people(app)
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="de-DE")
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.get_by_role("link", name="Passwort vergessen?").click()
    expect(page).to_have_url(f"{base}/auth/reset-password")
    expect(page.get_by_role("heading", level=1)).to_have_text("Passwort vergessen?")

    page.get_by_label("E-Mail-Adresse").fill(ACTIVE)
    page.get_by_role("button", name="Link schicken").click()
    expect(page).to_have_url(f"{base}/auth/reset-password/sent")
    status = page.get_by_role("status")
    expect(status).to_contain_text(SENT)
    expect(status).to_be_visible()
    expect(status).to_be_focused()  # a screen reader reads the answer first
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    (link,) = _links_mailed(app, smtp_server, ACTIVE)
    page.goto(base + link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Neues Passwort festlegen")
    expect(page.get_by_text(f"Konto für {ACTIVE}")).to_be_visible()
    page.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Neues Passwort wiederholen").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Passwort speichern").click()
    expect(page).to_have_url(f"{base}/auth/login")
    expect(page.get_by_role("status")).to_contain_text(
        "Ihr Passwort ist gespeichert. Bitte loggen Sie sich ein."
    )

    page.get_by_label("E-Mail-Adresse").fill(ACTIVE)
    page.get_by_label("Passwort", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Einloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Übersicht")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.goto(base + link)  # the link has done its work
    expect(page.get_by_role("heading", level=1)).to_have_text(VOID)
    page.get_by_role("link", name="Neuen Link anfordern").click()
    expect(page).to_have_url(f"{base}/auth/reset-password")
    context.close()


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_reset_pages_have_no_wcag_violations(live_app, browser, language, width):
    app, base = live_app
    _people(app)
    with app.app_context():
        now = utcnow()
        fresh = password_reset.send_reset_link(accounts.find_user_by_email(ACTIVE), now=now)
        user = db.session.execute(select(User).where(User.email == INVITED)).scalar_one()
        stale = password_reset.send_reset_link(user, now=now - timedelta(hours=2))
        db.session.commit()
    page = browser.new_page(viewport={"width": width, "height": 800}, locale="de-DE")
    found = {}

    def check(name: str) -> None:
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        found[name] = violations(page)

    page.goto(f"{base}/auth/reset-password?lang={language}")
    check("request")
    page.locator("form button[type=submit]").click()  # sent empty: the error next to the field
    expect(page.locator(".error-summary")).to_be_visible()
    check("request with errors")
    page.locator("#email").fill(UNKNOWN)
    page.locator("form button[type=submit]").click()
    expect(page.locator("#reset-sent")).to_be_visible()
    check("sent")
    page.goto(f"{base}/auth/set-password/{fresh}?lang={language}")
    expect(page.locator("#password")).to_be_visible()
    check("set new password")
    page.goto(f"{base}/auth/set-password/{stale}?lang={language}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check("expired link")
    page.close()
    assert {k: v for k, v in found.items() if v} == {}
