"""A person corrects their registration's address on the manage page; it changes only when
the new mailbox's owner confirms the link mailed there."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from playwright.sync_api import expect
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.models import AccessLink, OutboxMessage, Registration
from eventsapp.services import access_links, personal_data
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import csrf_token, make_app
from tests.factories import applicant, make_format, make_session
from tests.test_accessibility import violations
from tests.test_hostile_input import hostile

OLD = "ayse@gmial.com"
NEW = "ayse@example.org"


def _registered(app, email: str = OLD) -> dict:
    with app.app_context():
        session = make_session(make_format(title="Blick in die Polizei"), capacity=5)
        registration = rules.register_for_session(
            session, applicant(name="Ayşe Demir", email=email), now=utcnow()
        )
        db.session.commit()
        return {
            "session": session.id,
            "registration": registration.id,
            "manage": f"/registrations/{manage_token(registration)}",
        }


def _ask(client, manage: str, email: str):
    return client.post(
        f"{manage}/address", data={"csrf_token": csrf_token(client, manage), "email": email}
    )


def _link_mailed_to(app, email: str) -> str:
    with app.app_context():
        body = (
            db.session.execute(
                select(OutboxMessage.body_text)
                .where(
                    OutboxMessage.recipient == email,
                    OutboxMessage.dedupe_key.like("address-link:%"),
                )
                .order_by(OutboxMessage.id.desc())
            )
            .scalars()
            .first()
        )
    return re.search(r"http://\S+(/address/\S+)", body).group(1)


def _address(app, registration_id: int) -> str:
    with app.app_context():
        return db.session.get(Registration, registration_id).email


def test_the_address_changes_only_when_the_new_mailbox_confirms(app):
    ids = _registered(app)
    client = app.test_client()
    answer = _ask(client, ids["manage"], NEW)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"{ids['manage']}#address-done"
    page = client.get(ids["manage"]).get_data(as_text=True)
    assert "Wir haben einen Link an ayse@example.org geschickt." in page
    assert _address(app, ids["registration"]) == OLD  # nothing changed yet

    link = _link_mailed_to(app, NEW)
    confirm = client.get(link)
    assert confirm.status_code == 200
    assert "Neue E-Mail-Adresse bestätigen" in confirm.get_data(as_text=True)
    assert _address(app, ids["registration"]) == OLD  # a GET (a mail scanner) changes nothing

    done = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert done.status_code == 303
    new_manage = done.headers["Location"]
    assert new_manage != ids["manage"]
    assert _address(app, ids["registration"]) == NEW
    assert "Die Adresse ist geändert." in client.get(new_manage).get_data(as_text=True)
    # The old manage link (perhaps in a stranger's mailbox) and the used link are dead.
    assert client.get(ids["manage"]).status_code == 404
    assert client.get(link).status_code == 404
    with app.app_context():
        mails = {
            m.recipient: m
            for m in db.session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.dedupe_key.like(f"registration:{ids['registration']}:%")
                )
            ).scalars()
        }
        assert mails[NEW].deferred_template == "registration_moved"
        moved_away = mails[OLD]
        assert "ay***@ex***.org" in moved_away.body_text and NEW not in moved_away.body_text
        assert db.session.execute(select(func.count()).select_from(AccessLink)).scalar_one() == 0


def test_wrong_input_is_explained_next_to_the_field_and_nothing_is_sent(app):
    current = "ayse.demir@example.org"
    ids = _registered(app, current)
    client = app.test_client()
    for email, message in (
        ("", "Bitte geben Sie die neue E-Mail-Adresse an."),
        ("keine-adresse", None),
        (current, "Das ist schon die Adresse dieser Anmeldung."),
        ("ayse@gmail.con", "gmail.com"),
    ):
        answer = _ask(client, ids["manage"], email)
        assert answer.status_code == 422, email
        page = answer.get_data(as_text=True)
        assert 'id="email-error"' in page or 'id="email-suggestion"' in page or "gmail.com" in page
        if message:
            assert message in page
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(AccessLink)).scalar_one() == 0
        assert (
            db.session.execute(
                select(func.count()).where(OutboxMessage.dedupe_key.like("address-link:%"))
            ).scalar_one()
            == 0
        )


def test_an_address_registered_for_the_same_session_is_refused_on_confirming(app):
    ids = _registered(app)
    client = app.test_client()
    _ask(client, ids["manage"], NEW)
    link = _link_mailed_to(app, NEW)
    with app.app_context():
        rules.register_for_session(ids["session"], applicant(email=NEW), now=utcnow())
        db.session.commit()
    refused = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert refused.status_code == 409
    assert "Mit dieser Adresse besteht schon eine Anmeldung" in refused.get_data(as_text=True)
    assert _address(app, ids["registration"]) == OLD
    assert client.get(ids["manage"]).status_code == 200


def test_the_link_expires_and_dies_with_an_erasure(app):
    ids = _registered(app)
    client = app.test_client()
    _ask(client, ids["manage"], NEW)
    link = _link_mailed_to(app, NEW)
    with app.app_context():
        row = db.session.execute(select(AccessLink)).scalar_one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get(link).status_code == 404

    _ask(client, ids["manage"], "ayse.demir@example.org")
    with app.app_context():
        personal_data.erase(OLD, now=utcnow())
        db.session.commit()
        assert db.session.execute(select(func.count()).select_from(AccessLink)).scalar_one() == 0
        assert access_links.delete_expired(now=utcnow()) == 0


def test_cancelled_registrations_offer_no_correction(app):
    ids = _registered(app)
    client = app.test_client()
    with app.app_context():
        rules.cancel_registration(db.session.get(Registration, ids["registration"]), now=utcnow())
        db.session.commit()
    assert "E-Mail-Adresse korrigieren" not in client.get(ids["manage"]).get_data(as_text=True)
    token = csrf_token(client, ids["manage"])
    answer = client.post(f"{ids['manage']}/address", data={"csrf_token": token, "email": NEW})
    assert answer.status_code == 404


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(email=hostile)
def test_hostile_input_on_the_address_form(tmp_path_factory, email):
    app = make_app(tmp_path_factory.mktemp("hostile"))
    with app.app_context():
        db.create_all()
    ids = _registered(app)
    client = app.test_client()
    answer = _ask(client, ids["manage"], email)
    assert answer.status_code in (303, 422, 429)
    html = answer.get_data(as_text=True)
    assert "<script>alert" not in html
    assert _address(app, ids["registration"]) == OLD
    with app.app_context():
        links = db.session.execute(select(func.count()).select_from(AccessLink)).scalar_one()
        assert links == (1 if answer.status_code == 303 else 0)
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_correction_pages_have_no_wcag_violations(live_app, browser, language, width):
    app, base = live_app
    ids = _registered(app)
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="de-DE")
    page = context.new_page()
    found = {}
    page.goto(f"{base}{ids['manage']}?lang={language}")
    form = page.locator("#address")
    form.locator("button[type=submit]").click()  # empty: the error next to the field
    expect(form.locator("#email-error")).to_be_visible()
    found["error"] = violations(page)
    form = page.locator("#address")
    form.locator("input[type=email]").fill(NEW)
    form.locator("button[type=submit]").click()
    done = page.locator("#address-done")
    expect(done).to_be_focused()
    found["sent"] = violations(page)
    page.goto(f"{base}{_link_mailed_to(app, NEW)}?lang={language}")
    found["confirm"] = violations(page)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".flashes")).to_be_visible()
    found["changed"] = violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
    assert {k: v for k, v in found.items() if v} == {}
