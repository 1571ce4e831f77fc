"""Destructive actions ask first: an attendee cancelling, an organiser cancelling a
registration, calling a session off or skipping a draft, an admin blocking an account.

The first POST (without `confirmed`) only shows what will happen; "Nein, zurück" leads back
and changes nothing; "Ja" (the POST with `confirmed=1`) does exactly what one click did before.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from babel.dates import format_date
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.models import (
    Format,
    OrganisationKind,
    OutboxMessage,
    Registration,
    Role,
    Session,
    SessionStatus,
    User,
)
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import csrf_token, login, make_app
from tests.factories import (
    PASSWORD,
    applicant,
    make_format,
    make_organisation,
    make_session,
    make_user,
)
from tests.test_accessibility import violations
from tests.test_hostile_input import hostile as common_hostile

TITLE = "Blick in die Polizei"


def _build(app) -> dict:
    """A session of one seat held by A. Demir with two people waiting, a draft of the same
    format from its rule, an organiser, an organiser of another host, a partner, an admin."""
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, name="Polizeipräsidium Dortmund")
        other = make_organisation(OrganisationKind.HOST, name="Stadt Dortmund")
        partner = make_organisation(OrganisationKind.PARTNER, name="VMDO")
        format = make_format(host, title=TITLE, slug="blick")
        session = make_session(format, capacity=1, starts_at=utcnow() + timedelta(days=20))
        empty = make_session(format, capacity=5, starts_at=utcnow() + timedelta(days=27))
        starts = utcnow() + timedelta(days=34)
        draft = make_session(
            format, status=SessionStatus.DRAFT, starts_at=starts, occurrence_at=starts
        )
        now = utcnow()
        holder = rules.register_for_session(session, applicant("demir", name="A. Demir"), now=now)
        first = rules.register_for_session(session, applicant("wartet1", name="B. Kaya"), now=now)
        second = rules.register_for_session(session, applicant("wartet2", name="C. Novak"), now=now)
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        make_user(Role.ORGANISER, other, email="sam@stadt.example")
        member = make_user(Role.PARTNER, partner, email="petra@vmdo.example", name="Petra Peters")
        make_user(Role.ADMIN, email="admin@example.org")
        db.session.commit()
        return {
            "format": format.id,
            "session": session.id,
            "empty": empty.id,
            "draft": draft.id,
            "holder": holder.id,
            "first": first.id,
            "second": second.id,
            "holder_token": manage_token(holder),
            "second_token": manage_token(second),
            "member": member.id,
            "date": format_date(session.local_start.date(), "long", locale="de"),
            "empty_date": format_date(empty.local_start.date(), "long", locale="de"),
            "draft_date": format_date(draft.local_start.date(), "long", locale="de"),
        }


@pytest.fixture
def world(app) -> dict:
    return _build(app)


def _snapshot(app) -> dict:
    """Every row of every table: what a step that only asks must leave as it was."""
    with app.app_context():
        return {
            table.name: sorted(map(repr, db.session.execute(table.select()).all()))
            for table in db.metadata.sorted_tables
        }


def _mail_keys(app) -> set[str]:
    with app.app_context():
        return set(db.session.execute(select(OutboxMessage.dedupe_key)).scalars())


def _status(app, registration_id: int) -> str:
    with app.app_context():
        return db.session.get(Registration, registration_id).status


def _signed_in(app, email: str):
    client = app.test_client()
    assert login(client, email).status_code == 303
    return client


def _text(response) -> str:
    return response.get_data(as_text=True)


# --- 1. an attendee cancels their own registration ---------------------------------------


def test_attendee_cancel_asks_first_then_cancels_and_promotes(app, world):
    client = app.test_client()
    manage = f"/registrations/{world['holder_token']}"
    token = csrf_token(client, manage)
    before, keys = _snapshot(app), _mail_keys(app)

    asked = client.post(f"{manage}/cancel", data={"csrf_token": token})
    page = _text(asked)
    assert asked.status_code == 200
    assert asked.headers["Cache-Control"] == "no-store"
    question = f"Ihre Anmeldung für „{TITLE}“ am {world['date']} stornieren?"
    assert f'<h1 id="confirm-question">{question}</h1>' in page
    assert f"<title>{question} – " in page
    assert "Sie bekommen eine Bestätigung per E-Mail." in page
    assert "Steht jemand auf der Warteliste, rückt die nächste Person nach" in page
    assert "Das lässt sich nicht rückgängig machen." in page
    assert 'name="confirmed" value="1"' in page and "Ja, stornieren" in page
    assert f'<a href="{manage}">Nein, zurück</a>' in page
    assert 'name="robots" content="noindex"' in page
    assert " autofocus" not in page
    # Nothing beyond what the manage page shows: not who else is waiting.
    for other in ("B. Kaya", "C. Novak", "wartet1", "wartet2"):
        assert other not in page
    assert _snapshot(app) == before

    back = client.get(manage)
    assert back.status_code == 200 and "Sie sind angemeldet." in _text(back)
    assert _snapshot(app) == before

    done = client.post(f"{manage}/cancel", data={"csrf_token": token, "confirmed": "1"})
    assert done.status_code == 303 and done.headers["Location"] == manage
    assert "Ihre Anmeldung ist storniert." in _text(client.get(manage))
    assert _status(app, world["holder"]) == "cancelled"
    assert _status(app, world["first"]) == "confirmed"
    assert _status(app, world["second"]) == "waitlisted"
    assert _mail_keys(app) - keys == {
        f"registration:{world['holder']}:cancelled",
        f"registration:{world['first']}:promoted",
    }


def test_attendee_on_the_waitlist_is_asked_about_their_place(app, world):
    client = app.test_client()
    manage = f"/registrations/{world['second_token']}"
    token = csrf_token(client, manage)
    before = _snapshot(app)
    page = _text(client.post(f"{manage}/cancel", data={"csrf_token": token}))
    assert f"Von der Warteliste für „{TITLE}“ am {world['date']} streichen?" in page
    assert "Sie verlieren Platz 2 auf der Warteliste." in page
    assert "Ja, von der Warteliste streichen" in page
    assert _snapshot(app) == before
    keys = _mail_keys(app)
    client.post(f"{manage}/cancel", data={"csrf_token": token, "confirmed": "1"})
    assert _status(app, world["second"]) == "cancelled"
    assert _status(app, world["first"]) == "waitlisted"  # nobody moves up
    assert _mail_keys(app) - keys == {f"registration:{world['second']}:cancelled"}


def test_attendee_cannot_be_asked_once_the_registration_is_cancelled(app, world):
    client = app.test_client()
    manage = f"/registrations/{world['holder_token']}"
    token = csrf_token(client, manage)
    client.post(f"{manage}/cancel", data={"csrf_token": token, "confirmed": "1"})
    before = _snapshot(app)
    again = client.post(f"{manage}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "kann nicht mehr storniert werden" in _text(again)
    assert "Ja, stornieren" not in _text(again)
    assert _snapshot(app) == before


# --- 2. an organiser cancels a registration ----------------------------------------------


def test_organiser_cancel_of_a_registration_asks_first(app, world):
    client = _signed_in(app, "kim@polizei.example")
    session_url = f"/organiser/sessions/{world['session']}"
    url = f"/organiser/registrations/{world['holder']}/cancel"
    token = csrf_token(client, session_url)
    before, keys = _snapshot(app), _mail_keys(app)

    asked = client.post(url, data={"csrf_token": token})
    page = _text(asked)
    assert asked.status_code == 200
    assert (
        f'<h1 id="confirm-question">Anmeldung von A. Demir für „{TITLE}“, {world["date"]}, '
        "stornieren?</h1>"
    ) in page
    assert "Die Person bekommt eine E-Mail, dass ihre Anmeldung storniert ist." in page
    assert (
        "Der Platz geht an die nächste Person auf der Warteliste, die ebenfalls eine E-Mail "
        "bekommt. Auf der Warteliste stehen 2 Personen."
    ) in page
    assert "Das lässt sich nicht rückgängig machen." in page
    assert f'<a href="{session_url}#r{world["holder"]}">Nein, zurück</a>' in page
    assert 'name="back"' not in page
    assert _snapshot(app) == before

    assert client.get(f"{session_url}#r{world['holder']}").status_code == 200
    assert _snapshot(app) == before

    done = client.post(url, data={"csrf_token": token, "confirmed": "1"})
    assert done.status_code == 303
    assert done.headers["Location"] == f"{session_url}#registrations-done"
    assert "Anmeldung storniert." in _text(client.get(session_url))
    assert _status(app, world["holder"]) == "cancelled"
    assert _status(app, world["first"]) == "confirmed"
    assert _mail_keys(app) - keys == {
        f"registration:{world['holder']}:cancelled",
        f"registration:{world['first']}:promoted",
    }


def test_organiser_cancel_of_a_waitlisted_person_and_from_the_checkin_page(app, world):
    client = _signed_in(app, "kim@polizei.example")
    token = csrf_token(client, f"/organiser/sessions/{world['session']}")
    url = f"/organiser/registrations/{world['first']}/cancel"
    before = _snapshot(app)
    page = _text(client.post(url, data={"csrf_token": token, "back": "checkin"}))
    assert "Die Person wird von der Warteliste gestrichen" in page
    assert "Der Platz geht an" not in page
    assert "Warteliste (Platz 1)" in page
    checkin = f"/organiser/sessions/{world['session']}/checkin#r{world['first']}"
    assert f'<a href="{checkin}">Nein, zurück</a>' in page
    assert '<input type="hidden" name="back" value="checkin">' in page
    assert _snapshot(app) == before
    done = client.post(url, data={"csrf_token": token, "back": "checkin", "confirmed": "1"})
    assert done.status_code == 303 and done.headers["Location"] == f"{checkin}-done"
    assert _status(app, world["first"]) == "cancelled"
    assert _status(app, world["holder"]) == "confirmed"


def test_organiser_of_another_host_gets_neither_step(app, world):
    client = _signed_in(app, "sam@stadt.example")
    token = csrf_token(client, "/auth/account")
    before = _snapshot(app)
    url = f"/organiser/registrations/{world['holder']}/cancel"
    for data in ({"csrf_token": token}, {"csrf_token": token, "confirmed": "1"}):
        response = client.post(url, data=data)
        assert response.status_code == 404 and "A. Demir" not in _text(response)
    assert _snapshot(app) == before


# --- 3. an organiser calls a session off ------------------------------------------------


def test_session_cancel_asks_first_with_the_real_count(app, world):
    client = _signed_in(app, "kim@polizei.example")
    session_url = f"/organiser/sessions/{world['session']}"
    url = f"{session_url}/cancel"
    token = csrf_token(client, session_url)
    before, keys = _snapshot(app), _mail_keys(app)

    refused = client.post(url, data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422 and "Bitte nennen Sie einen Grund." in _text(refused)
    assert _snapshot(app) == before

    asked = client.post(url, data={"csrf_token": token, "reason": "Sturmwarnung"})
    page = _text(asked)
    assert asked.status_code == 200
    assert f"„{TITLE}“ am {world['date']} absagen?" in page
    assert "Alle 3 Angemeldeten bekommen eine Absage mit diesem Grund per E-Mail." in page
    assert "Dazu zählen 2 Personen auf der Warteliste." in page
    assert "Sturmwarnung" in page
    assert '<input type="hidden" name="reason" value="Sturmwarnung">' in page
    assert "Das lässt sich nicht rückgängig machen." in page
    assert f'<a href="{session_url}#cancel-heading">Nein, zurück</a>' in page
    assert _snapshot(app) == before
    assert client.get(session_url).status_code == 200
    assert _snapshot(app) == before

    done = client.post(url, data={"csrf_token": token, "reason": "Sturmwarnung", "confirmed": "1"})
    assert done.status_code == 303 and done.headers["Location"] == session_url
    with app.app_context():
        session = db.session.get(Session, world["session"])
        assert session.status == "cancelled" and session.cancel_reason == "Sturmwarnung"
    assert _mail_keys(app) - keys == {
        f"registration:{world[k]}:session-cancelled" for k in ("holder", "first", "second")
    }
    cancelled = _snapshot(app)
    again = client.post(url, data={"csrf_token": token, "reason": "Noch einmal"})
    assert again.status_code == 303
    assert "Nur veröffentlichte Termine" in _text(client.get(session_url))
    assert _snapshot(app) == cancelled


def test_session_cancel_without_registrations_says_nobody_is_mailed(app, world):
    client = _signed_in(app, "kim@polizei.example")
    url = f"/organiser/sessions/{world['empty']}/cancel"
    token = csrf_token(client, f"/organiser/sessions/{world['empty']}")
    page = _text(client.post(url, data={"csrf_token": token, "reason": "Umbau"}))
    assert f"„{TITLE}“ am {world['empty_date']} absagen?" in page
    assert "Es ist niemand angemeldet; es wird keine E-Mail verschickt." in page
    assert "Angemeldeten bekommen" not in page


# --- 4. an organiser skips a draft date -------------------------------------------------


def test_skipping_a_draft_asks_first(app, world):
    client = _signed_in(app, "kim@polizei.example")
    format_url = f"/organiser/formats/{world['format']}"
    url = f"/organiser/sessions/{world['draft']}/skip"
    token = csrf_token(client, format_url)
    before = _snapshot(app)

    page = _text(client.post(url, data={"csrf_token": token}))
    assert f"Den Entwurf von „{TITLE}“ am {world['draft_date']} überspringen?" in page
    assert "Der Entwurf wird gelöscht. Er war nicht veröffentlicht: Niemand bekommt" in page
    assert "bleibt dieser Tag ausgelassen" in page
    assert "Das lässt sich nicht rückgängig machen." in page
    assert f'<a href="{format_url}">Nein, zurück</a>' in page
    assert _snapshot(app) == before
    assert client.get(format_url).status_code == 200
    assert _snapshot(app) == before

    done = client.post(url, data={"csrf_token": token, "confirmed": "1"})
    assert done.status_code == 303 and done.headers["Location"] == format_url
    with app.app_context():
        assert db.session.get(Session, world["draft"]) is None
        assert db.session.get(Format, world["format"]).exdates
    assert _snapshot(app)["outbox_messages"] == before["outbox_messages"]  # no mail


def test_a_published_session_is_not_offered_for_skipping(app, world):
    client = _signed_in(app, "kim@polizei.example")
    token = csrf_token(client, f"/organiser/formats/{world['format']}")
    before = _snapshot(app)
    response = client.post(
        f"/organiser/sessions/{world['session']}/skip",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "Nur Entwürfe können übersprungen werden" in _text(response)
    assert _snapshot(app) == before


# --- 5. an admin blocks an account -------------------------------------------------------


def test_blocking_an_account_asks_first_unblocking_does_not(app, world):
    admin = _signed_in(app, "admin@example.org")
    member = _signed_in(app, "petra@vmdo.example")
    url = f"/admin/users/{world['member']}/active"
    token = csrf_token(admin, "/admin/users")
    before = _snapshot(app)

    page = _text(admin.post(url, data={"csrf_token": token}))
    assert '<h1 id="confirm-question">Das Konto von Petra Peters sperren?</h1>' in page
    assert "sofort ausgeloggt" in page and "Die Person bekommt darüber keine E-Mail." in page
    assert "jederzeit wieder freischalten" in page
    assert '<a href="/admin/users">Nein, zurück</a>' in page
    assert _snapshot(app) == before
    assert member.get("/auth/account").status_code == 200  # still signed in
    assert admin.get("/admin/users").status_code == 200
    assert _snapshot(app) == before

    done = admin.post(url, data={"csrf_token": token, "confirmed": "1"})
    assert done.status_code == 303
    assert "Konto gesperrt." in _text(admin.get("/admin/users"))
    with app.app_context():
        assert db.session.get(User, world["member"]).active is False
    assert member.get("/auth/account").status_code == 302  # signed out everywhere

    blocked = _snapshot(app)
    again = admin.post(url, data={"csrf_token": token, "confirmed": "1"}, follow_redirects=True)
    assert "bereits gesperrt" in _text(again)
    assert _snapshot(app) == blocked  # a second "Ja, sperren" does not unblock

    unblocked = admin.post(url, data={"csrf_token": token})
    assert unblocked.status_code == 303
    with app.app_context():
        assert db.session.get(User, world["member"]).active is True


# --- hostile input on the new forms -------------------------------------------------------

# The suite's hostile strings (tests/test_hostile_input.py) and near misses of confirmed=1.
hostile = st.one_of(
    common_hostile,
    st.sampled_from(
        [
            "0",
            "yes",
            "true",
            "1 ",
            " 1",
        ]
    ),
)
not_confirmed = hostile.filter(lambda v: v != "1")
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIRST_STEPS = {
    "attendee": ("/registrations/{holder_token}/cancel", None),
    "registration": ("/organiser/registrations/{holder}/cancel", "kim@polizei.example"),
    "session": ("/organiser/sessions/{session}/cancel", "kim@polizei.example"),
    "skip": ("/organiser/sessions/{draft}/skip", "kim@polizei.example"),
    "block": ("/admin/users/{member}/active", "admin@example.org"),
}


@pytest.fixture
def hostile_world(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
    return app, _build(app)


@pytest.mark.parametrize("action", list(FIRST_STEPS))
def test_hostile_input_on_the_first_step_writes_nothing(hostile_world, action):
    app, world = hostile_world
    template, email = FIRST_STEPS[action]
    url = template.format(**world)
    client = _signed_in(app, email) if email else app.test_client()
    token = csrf_token(client, "/auth/account" if email else url.rsplit("/", 1)[0])
    before = _snapshot(app)

    @SETTINGS
    @given(confirmed=not_confirmed, back=hostile, reason=hostile)
    def post(confirmed, back, reason):
        data = {"csrf_token": token, "confirmed": confirmed, "back": back, "reason": reason}
        response = client.post(url, data=data)
        assert response.status_code < 500, data
        assert _snapshot(app) == before, data  # only "Ja" acts, with confirmed=1
        html = _text(response)
        for payload in ("<script>alert(1)</script>", "<img src=x onerror"):
            assert payload not in html
        if response.status_code == 200:
            assert 'name="confirmed" value="1"' in html

    post()


def test_hostile_reason_on_the_final_step_is_refused_without_writing(hostile_world):
    app, world = hostile_world
    client = _signed_in(app, "kim@polizei.example")
    url = f"/organiser/sessions/{world['session']}/cancel"
    token = csrf_token(client, "/auth/account")

    @SETTINGS
    @given(reason=hostile)
    def post(reason):
        before = _snapshot(app)
        response = client.post(url, data={"csrf_token": token, "reason": reason, "confirmed": "1"})
        assert response.status_code < 500, reason
        if response.status_code >= 400:
            assert _snapshot(app) == before, reason
        html = _text(response)
        assert "<script>alert(1)</script>" not in html and "<img src=x onerror" not in html

    post()


# --- in a real browser --------------------------------------------------------------------


def _browser_login(page, base: str, email: str) -> None:
    page.goto(f"{base}/auth/login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Einloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Übersicht")


def test_organiser_cancels_a_registration_on_a_phone(live_app, browser):
    app, base = live_app
    world = _build(app)
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="de-DE")
    page = context.new_page()
    _browser_login(page, base, "kim@polizei.example")
    session_url = f"{base}/organiser/sessions/{world['session']}"
    page.goto(session_url)
    row = page.locator(f"#r{world['holder']}")
    expect(row).to_contain_text("A. Demir")
    before = _snapshot(app)

    row.get_by_role("button", name="Stornieren").click()
    question = f"Anmeldung von A. Demir für „{TITLE}“, {world['date']}, stornieren?"
    expect(page.get_by_role("heading", level=1)).to_have_text(question)
    expect(page).to_have_url(f"{base}/organiser/registrations/{world['holder']}/cancel")
    expect(page).to_have_title(re.compile("^" + re.escape(question)))
    expect(page.get_by_text("Die Person bekommt eine E-Mail")).to_be_visible()
    expect(page.get_by_text("Auf der Warteliste stehen 2 Personen.")).to_be_visible()
    # Nothing takes the focus: a screen reader starts with the title and the question.
    assert page.evaluate("document.activeElement === document.body")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert _snapshot(app) == before

    # Back, with the keyboard: the focus is not trapped, Tab starts at the top of the page.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Zum Inhalt springen"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Nein, zurück":
            break
    else:
        raise AssertionError("could not reach „Nein, zurück“ with Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{session_url}#r{world['holder']}")
    expect(page.locator(f"#r{world['holder']}")).to_contain_text("bestätigt")
    expect(page.locator(f"#r{world['first']}")).to_contain_text("Warteliste")
    assert _snapshot(app) == before

    page.locator(f"#r{world['holder']}").get_by_role("button", name="Stornieren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(question)
    page.get_by_role("button", name="Ja, stornieren").click()
    # The answer stands above the list of registrations, scrolled to and read out first.
    expect(page).to_have_url(f"{session_url}#registrations-done")
    done = page.locator("#registrations-done")
    expect(done).to_have_attribute("role", "status")
    expect(done).to_contain_text("Anmeldung storniert.")
    expect(done).to_be_focused()
    expect(done).to_be_in_viewport()
    expect(page.locator(f"#r{world['first']}")).to_contain_text("bestätigt")
    assert _status(app, world["holder"]) == "cancelled"
    assert f"registration:{world['first']}:promoted" in _mail_keys(app)
    context.close()


@pytest.mark.parametrize("language", ["de", "ar"])
def test_confirmation_pages_have_no_wcag_violations(live_app, browser, language):
    app, base = live_app
    world = _build(app)
    found = {}
    for width in (320, 1280):
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="de-DE")
        page = context.new_page()
        page.goto(f"{base}/registrations/{world['holder_token']}?lang={language}")
        page.locator("form.cancel-form button[type=submit]").click()
        expect(page.locator("h1#confirm-question")).to_be_visible()
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        found[f"attendee {width}"] = violations(page)

        page.goto(f"{base}/auth/login?lang={language}")
        page.locator("#email").fill("kim@polizei.example")
        page.locator("#password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.goto(f"{base}/organiser/sessions/{world['session']}")
        page.locator(f"#r{world['holder']} form[action$='/cancel'] button").click()
        expect(page.locator("h1#confirm-question")).to_be_visible()
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        found[f"organiser {width}"] = violations(page)
        context.close()
    assert _status(app, world["holder"]) == "confirmed"
    assert {k: v for k, v in found.items() if v} == {}
