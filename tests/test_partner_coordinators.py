"""Partner coordinators: a member of a partner organisation registers colleagues into the
organisation's contingent (each gets their own mail and link), sees and cancels the
organisation's registrations on the account page, and is mailed about the seats kept for
the organisation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.models import (
    Contingent,
    OrganisationKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Role,
    Session,
)
from eventsapp.services import contingents, housekeeping
from eventsapp.services import registrations as rules
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
from tests.test_hostile_input import hostile

COORDINATOR = "leyla@vmdo.example"


def _build(app, *, capacity: int = 4, kept: int = 2) -> dict:
    """A session of `capacity` seats with `kept` of them reserved for VMDO, whose member
    Leyla coordinates; another partner (IFAK) with a member of its own."""
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, name="Polizeipräsidium Dortmund")
        vmdo = make_organisation(OrganisationKind.PARTNER, name="VMDO", language="tr")
        ifak = make_organisation(OrganisationKind.PARTNER, name="IFAK")
        leyla = make_user(Role.PARTNER, vmdo, email=COORDINATOR, name="Leyla Aksoy")
        make_user(Role.PARTNER, ifak, email="jan@ifak.example", name="Jan Nowak")
        format = make_format(host, title="Blick in die Polizei")
        session = make_session(format, capacity=capacity)
        if kept:
            contingents.set_contingent(
                session,
                vmdo,
                seats=kept,
                release_at=session.starts_at - timedelta(days=3),
                now=utcnow(),
            )
        db.session.commit()
        return {"session": session.id, "vmdo": vmdo.id, "ifak": ifak.id, "leyla": leyla.id}


def _signed_in(app, email: str = COORDINATOR):
    client = app.test_client()
    assert login(client, email).status_code == 303
    return client


def _register_colleague(client, session_id: int, name: str, email: str, **extra):
    page = f"/sessions/{session_id}"
    data = {
        "colleague-csrf_token": csrf_token(client, page),
        "colleague-name": name,
        "colleague-email": email,
        "colleague-language": "de",
        "colleague-agreed": "y",
        **extra,
    }
    return client.post(f"/sessions/{session_id}/colleagues", data=data)


def _registration(app, email: str) -> Registration | None:
    with app.app_context():
        return db.session.execute(
            select(Registration).where(Registration.email == email)
        ).scalar_one_or_none()


def test_a_coordinator_registers_two_colleagues_into_the_contingent(app):
    ids = _build(app, capacity=3, kept=2)
    client = _signed_in(app)
    page = client.get(f"/sessions/{ids['session']}").get_data(as_text=True)
    assert "Kolleginnen und Kollegen anmelden" in page
    assert "Zuerst werden die 2 reservierten Plätze Ihrer Organisation vergeben." in page

    answer = _register_colleague(client, ids["session"], "Murat Yılmaz", "murat@example.org")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/sessions/{ids['session']}#colleagues-done"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    # The acknowledgement sits in the colleagues' section, not at the top of the page.
    section = page[page.index('id="colleagues"') :]
    assert 'id="colleagues-done" role="status"' in section
    assert "Wir haben Murat Yılmaz eine E-Mail mit dem eigenen Link geschickt." in section
    assert "Wir haben Murat" not in page[: page.index('id="colleagues"')]
    _register_colleague(client, ids["session"], "Sevgi Kara", "sevgi@example.org")

    with app.app_context():
        rows = db.session.execute(
            select(Registration).where(Registration.session_id == ids["session"])
        ).scalars()
        by_email = {r.email: r for r in rows}
        kept = db.session.execute(select(Contingent.id)).scalar_one()
        for email in ("murat@example.org", "sevgi@example.org"):
            registration = by_email[email]
            assert registration.status == RegistrationStatus.CONFIRMED
            assert registration.contingent_id == kept
            assert registration.organisation_id == ids["vmdo"]
            assert registration.user_id is None  # not the coordinator's own
            assert registration.organisation_name == "VMDO"
        # Each colleague gets their own mail, with their own link.
        mails = {
            m.recipient: m
            for m in db.session.execute(
                select(OutboxMessage).where(OutboxMessage.registration_id.is_not(None))
            ).scalars()
        }
        assert set(mails) == {"murat@example.org", "sevgi@example.org"}
        assert mails["murat@example.org"].deferred_template == "registration_confirmed"
    # Nothing went to the coordinator about them.
    with app.app_context():
        to_leyla = db.session.execute(
            select(func.count()).where(
                OutboxMessage.recipient == COORDINATOR,
                OutboxMessage.registration_id.is_not(None),
            )
        ).scalar_one()
        assert to_leyla == 0

    # A third colleague gets the last public seat; the account page lists all three.
    _register_colleague(client, ids["session"], "Ali Demir", "ali@example.org")
    assert _registration(app, "ali@example.org").contingent_id is None
    account = client.get("/auth/account").get_data(as_text=True)
    listed = account[account.index('id="organisation"') :]
    for name in ("Ali Demir", "Murat Yılmaz", "Sevgi Kara"):
        assert name in listed
    assert listed.index("Ali Demir") < listed.index("Murat Yılmaz") < listed.index("Sevgi Kara")


def test_registering_an_address_twice_reveals_nothing_and_resends_its_link(app):
    ids = _build(app)
    with app.app_context():
        own = rules.register_for_session(
            ids["session"], applicant(name="Eda Şahin", email="eda@example.org"), now=utcnow()
        )
        db.session.commit()
        own_id = own.id
    client = _signed_in(app)
    answer = _register_colleague(client, ids["session"], "Eda Şahin", "eda@example.org")
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Wir haben Eda Şahin eine E-Mail mit dem eigenen Link geschickt." in page
    with app.app_context():
        rows = db.session.execute(
            select(Registration).where(Registration.email == "eda@example.org")
        ).scalars()
        assert [(r.id, r.organisation_id) for r in rows] == [(own_id, None)]
        links = db.session.execute(
            select(OutboxMessage.deferred_template).where(
                OutboxMessage.recipient == "eda@example.org"
            )
        ).scalars()
        assert sorted(links) == ["registration_confirmed", "registration_link"]
    # Her own registration is not the organisation's: it is not listed, and cannot be
    # cancelled by the coordinator.
    assert "Eda Şahin" not in client.get("/auth/account").get_data(as_text=True)
    assert client.get(f"/auth/account/organisation/registrations/{own_id}/cancel").status_code == (
        404
    )


def test_only_partner_members_get_the_form(app):
    ids = _build(app)
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST)
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        db.session.commit()
    anonymous = app.test_client()
    assert "Kolleginnen und Kollegen" not in anonymous.get(f"/sessions/{ids['session']}").get_data(
        as_text=True
    )
    token = csrf_token(anonymous, f"/sessions/{ids['session']}")
    posted = anonymous.post(
        f"/sessions/{ids['session']}/colleagues",
        data={"csrf_token": token, "colleague-name": "X", "colleague-email": "x@example.org"},
    )
    assert posted.status_code in (302, 404)
    organiser = _signed_in(app, "kim@polizei.example")
    assert "Kolleginnen und Kollegen" not in organiser.get(f"/sessions/{ids['session']}").get_data(
        as_text=True
    )
    assert _register_colleague(organiser, ids["session"], "X", "x@example.org").status_code == 404
    assert _registration(app, "x@example.org") is None


def test_the_colleague_must_know_of_it_and_errors_stand_next_to_the_fields(app):
    ids = _build(app)
    client = _signed_in(app)
    answer = _register_colleague(
        client,
        ids["session"],
        "",
        "murat@gmial.com",
        **{"colleague-agreed": ""},
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Bitte geben Sie den Namen an." in page
    assert "Bitte melden Sie nur Personen an, die davon wissen und zustimmen." in page
    assert 'id="colleague-name-error"' in page and 'id="colleague-agreed-error"' in page
    # The form above (the coordinator's own registration) still carries their own name.
    assert 'value="Leyla Aksoy"' in page
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Registration)).scalar_one() == 0


def test_a_coordinator_cancels_a_colleagues_registration_after_confirming(app):
    ids = _build(app, capacity=2, kept=2)
    client = _signed_in(app)
    _register_colleague(client, ids["session"], "Murat Yılmaz", "murat@example.org")
    _register_colleague(client, ids["session"], "Sevgi Kara", "sevgi@example.org")
    with app.app_context():
        # Someone from outside waits for a seat; kept seats stay the partner's.
        rules.register_for_session(ids["session"], applicant(email="w@example.org"), now=utcnow())
        db.session.commit()
    murat = _registration(app, "murat@example.org")
    account = client.get("/auth/account").get_data(as_text=True)
    cancel_url = f"/auth/account/organisation/registrations/{murat.id}/cancel"
    assert cancel_url in account

    question = client.get(cancel_url).get_data(as_text=True)
    assert "Die Anmeldung von Murat Yılmaz für „Blick in die Polizei“" in question
    assert "Murat Yılmaz bekommt eine E-Mail, dass die Anmeldung storniert ist." in question
    assert _registration(app, "murat@example.org").status == RegistrationStatus.CONFIRMED

    done = client.post(cancel_url, data={"csrf_token": csrf_token(client, cancel_url)})
    assert done.status_code == 303 and done.headers["Location"] == "/auth/account#organisation-done"
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Die Anmeldung von Murat Yılmaz ist storniert." in page
    assert _registration(app, "murat@example.org").status == RegistrationStatus.CANCELLED
    with app.app_context():
        to_murat = db.session.execute(
            select(OutboxMessage.deferred_template).where(
                OutboxMessage.recipient == "murat@example.org"
            )
        ).scalars()
        assert "registration_cancelled" in list(to_murat)
    # A second time: nothing more to cancel, said in the section.
    again = client.post(cancel_url, data={"csrf_token": csrf_token(client, "/auth/account")})
    assert "kann nicht mehr storniert werden" in client.get(again.headers["Location"]).get_data(
        as_text=True
    )

    # Another partner's member cannot see or cancel VMDO's registrations.
    jan = _signed_in(app, "jan@ifak.example")
    sevgi = _registration(app, "sevgi@example.org")
    assert "Sevgi Kara" not in jan.get("/auth/account").get_data(as_text=True)
    other = f"/auth/account/organisation/registrations/{sevgi.id}/cancel"
    assert jan.get(other).status_code == 404
    token = csrf_token(jan, "/auth/account")
    assert jan.post(other, data={"csrf_token": token}).status_code == 404
    assert _registration(app, "sevgi@example.org").status == RegistrationStatus.CONFIRMED


def _contingent_mails(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like("contingent:%"))
            .order_by(OutboxMessage.id)
        ).scalars()
        return [(m.recipient, m.language, m.subject, m.body_text) for m in rows]


def test_members_are_mailed_when_a_contingent_is_created_changed_or_about_to_be_released(app):
    ids = _build(app, capacity=6, kept=2)
    mails = _contingent_mails(app)
    assert [(m[0], m[2]) for m in mails] == [
        (COORDINATOR, "Reservierte Plätze für Ihre Organisation: Blick in die Polizei")
    ]
    body = mails[0][3]
    assert "für Ihre Organisation sind bei diesem Termin 2 Plätze reserviert:" in body
    assert "Belegt: 0 von 2" in body
    assert f"/sessions/{ids['session']}" in body and "/auth/account?lang=de#organisation" in body

    with app.app_context():
        contingent = db.session.execute(select(Contingent)).scalar_one()
        session, vmdo = contingent.session, contingent.organisation
        # Saved again unchanged: no mail. Changed: one.
        contingents.set_contingent(
            session, vmdo, seats=2, release_at=contingent.release_at, now=utcnow()
        )
        contingents.set_contingent(
            session, vmdo, seats=3, release_at=contingent.release_at, now=utcnow()
        )
        db.session.commit()
        release_at = contingent.release_at
    mails = _contingent_mails(app)
    assert len(mails) == 2
    assert mails[1][2] == "Reservierte Plätze geändert: Blick in die Polizei"
    assert "Jetzt sind 3 Plätze reserviert:" in mails[1][3]

    client = _signed_in(app)
    _register_colleague(client, ids["session"], "Murat Yılmaz", "murat@example.org")
    with app.app_context():
        # Three days before the release: not yet. Two days before: once, with what is used.
        housekeeping.run_jobs(
            now=release_at - timedelta(days=3), retention_days=90, registration_days=90
        )
        db.session.commit()
        assert len(_contingent_mails(app)) == 2
        for hours in (47, 46, 1):
            housekeeping.run_jobs(
                now=release_at - timedelta(hours=hours), retention_days=90, registration_days=90
            )
            db.session.commit()
    mails = _contingent_mails(app)
    assert len(mails) == 3
    assert mails[2][2] == "Reservierte Plätze werden bald freigegeben: Blick in die Polizei"
    assert "sind noch 2 frei:" in mails[2][3] and "Belegt: 1 von 3" in mails[2][3]


def test_an_organisation_without_member_accounts_is_mailed_at_its_contact_in_its_language(app):
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST)
        partner = make_organisation(
            OrganisationKind.PARTNER,
            name="Kulturverein",
            contact_email="kontakt@kulturverein.example",
            language="ar",
        )
        session = make_session(make_format(host, title="Blick in die Polizei"), capacity=5)
        contingents.set_contingent(
            session,
            partner,
            seats=2,
            release_at=session.starts_at - timedelta(days=2),
            now=utcnow(),
        )
        db.session.commit()
    [(recipient, language, subject, body)] = _contingent_mails(app)
    assert (recipient, language) == ("kontakt@kulturverein.example", "ar")
    assert "Blick in die Polizei" in subject and "Reservierte" not in subject
    assert re.search(r"[\u0600-\u06FF]", body)


def test_contingent_mails_reach_the_smtp_server(mail_app, smtp_server):
    _build(mail_app)
    with mail_app.app_context():
        assert deliver_due(now=utcnow()).sent == 1
    [mail] = smtp_server.sink.to(COORDINATOR)
    assert mail["Subject"] == "Reservierte Plätze für Ihre Organisation: Blick in die Polizei"
    assert "Belegt: 0 von 2" in mail.get_body(("plain",)).get_content()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=hostile, email=hostile, language=hostile, agreed=st.sampled_from(["", "y", "x"]))
def test_hostile_input_on_the_colleague_form(tmp_path_factory, name, email, language, agreed):
    app = make_app(tmp_path_factory.mktemp("hostile"))
    with app.app_context():
        db.create_all()
    ids = _build(app)
    client = _signed_in(app)
    answer = _register_colleague(
        client,
        ids["session"],
        name,
        email,
        **{"colleague-language": language, "colleague-agreed": agreed},
    )
    assert answer.status_code in (303, 422, 429)
    with app.app_context():
        written = db.session.execute(select(Registration)).scalars().all()
        if answer.status_code != 303:
            assert written == []
    html = answer.get_data(as_text=True) if answer.status_code != 303 else ""
    if "<script>" in name and html:
        assert "<script>" not in html.split('id="colleagues"', 1)[-1].split("</form>")[0]
    account = client.get("/auth/account").get_data(as_text=True)
    assert "<script>alert" not in account
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("width", [375])
def test_a_coordinator_registers_two_colleagues_in_chromium(live_app, browser, width):
    """The journey at 375 px: sign in from the session page, register two colleagues, see
    them on the account page, cancel one after the confirmation step."""
    app, base = live_app
    ids = _build(app, capacity=5, kept=2)
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="de-DE")
    page = context.new_page()
    page.goto(f"{base}/auth/login?next=/sessions/{ids['session']}")
    page.get_by_label("E-Mail-Adresse").fill(COORDINATOR)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Einloggen").click()
    expect(page).to_have_url(f"{base}/sessions/{ids['session']}")

    section = page.locator("#colleagues")
    expect(section.get_by_role("heading", name="Kolleginnen und Kollegen anmelden")).to_be_visible()
    for name, email in (("Murat Yılmaz", "murat@example.org"), ("Sevgi Kara", "sevgi@example.org")):
        section.get_by_label("Name").fill(name)
        section.get_by_label("E-Mail-Adresse").fill(email)
        section.get_by_label("Die Person weiß von der Anmeldung und ist einverstanden.").check()
        section.get_by_role("button", name="Person anmelden").click()
        expect(page).to_have_url(f"{base}/sessions/{ids['session']}#colleagues-done")
        done = page.locator("#colleagues-done")
        expect(done).to_have_text(re.compile(f"Wir haben {name} eine E-Mail"))
        expect(done).to_be_focused()  # read out first by a screen reader
        expect(done).to_be_in_viewport()
        # The form is empty again for the next person.
        expect(section.get_by_label("Name")).to_have_value("")
    assert violations(page) == []

    page.locator("#colleagues").get_by_role(
        "link", name="Alle Anmeldungen Ihrer Organisation"
    ).click()
    rows = page.locator("#organisation tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Murat Yılmaz")
    expect(rows.nth(0)).to_contain_text("bestätigt")
    assert violations(page) == []
    rows.nth(0).get_by_role("link", name=re.compile("Stornieren")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Murat Yılmaz")
    assert violations(page) == []
    page.get_by_role("button", name="Ja, stornieren").click()
    expect(page).to_have_url(f"{base}/auth/account#organisation-done")
    expect(page.locator("#organisation-done")).to_contain_text(
        "Die Anmeldung von Murat Yılmaz ist storniert."
    )
    expect(rows.nth(0)).to_contain_text("storniert")
    # No horizontal scrolling at this width.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


def test_a_closed_registration_is_said_plainly(app):
    ids = _build(app)
    client = _signed_in(app)
    token = csrf_token(client, f"/sessions/{ids['session']}")
    with app.app_context():
        session = db.session.get(Session, ids["session"])
        session.registration_closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    answer = client.post(
        f"/sessions/{ids['session']}/colleagues",
        data={
            "colleague-csrf_token": token,
            "colleague-name": "Murat Yılmaz",
            "colleague-email": "murat@example.org",
            "colleague-language": "de",
            "colleague-agreed": "y",
        },
    )
    assert answer.status_code == 409
    assert "Für diesen Termin ist keine Anmeldung mehr möglich." in answer.get_data(as_text=True)
    assert _registration(app, "murat@example.org") is None


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_coordinators_pages_have_no_wcag_violations(live_app, browser, language, width):
    app, base = live_app
    ids = _build(app, capacity=5, kept=2)
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="de-DE")
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.locator("#email").fill(COORDINATOR)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    found = {}
    session_page = f"{base}/sessions/{ids['session']}?lang={language}"
    page.goto(session_page)
    found["session with the colleagues' form"] = violations(page)
    form = page.locator("#colleagues form")
    form.locator("button[type=submit]").click()
    expect(page.locator("#colleagues .error-summary")).to_be_visible()
    found["colleagues' form with errors"] = violations(page)
    form = page.locator("#colleagues form")
    form.locator("input[name='colleague-name']").fill("Murat Yılmaz")
    form.locator("input[name='colleague-email']").fill("murat@example.org")
    form.locator("input[name='colleague-agreed']").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("#colleagues-done")).to_be_focused()
    found["colleague registered"] = violations(page)
    page.goto(f"{base}/auth/account?lang={language}")
    found["account with the organisation's registrations"] = violations(page)
    page.locator("#organisation tbody a[href*='/cancel']").first.click()
    expect(page.locator("form.confirm-form button[type=submit]")).to_be_visible()
    found["cancel a colleague's registration?"] = violations(page)
    page.locator("form.confirm-form button[type=submit]").click()
    expect(page.locator("#organisation-done")).to_be_focused()
    found["cancelled"] = violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
    assert {k: v for k, v in found.items() if v} == {}
