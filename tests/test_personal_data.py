"""Data protection: retention, self-service export and erasure by email link."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

from sqlalchemy import select, text

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.models import (
    AccessLink,
    AccessPurpose,
    OrganisationKind,
    OutboxMessage,
    Registration,
    Role,
)
from eventsapp.services import access_links, feeds, personal_data, subscriptions
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import csrf_token
from tests.factories import applicant, make_format, make_organisation, make_session, make_user

EMAIL = "ayse.demir@example.org"


def _everything_mentioning(value: str) -> list[str]:
    """Every row of every table that still contains `value` somewhere."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()).mappings():
            if any(isinstance(v, str) and value in v for v in row.values()):
                found.append(f"{table.name}: {dict(row)}")
            if any(isinstance(v, dict) and value in json.dumps(v) for v in row.values()):
                found.append(f"{table.name}: {dict(row)}")
    return found


def test_registrations_are_anonymised_after_the_retention_period(app, runner):
    with app.app_context():
        now = utcnow()
        past = make_session(starts_at=now - timedelta(days=40))
        recent = make_session(starts_at=now - timedelta(days=10))
        old = rules.register_for_session(past, applicant(1), now=past.starts_at - timedelta(days=3))
        old.attended = True
        new = rules.register_for_session(
            recent, applicant(2), now=recent.starts_at - timedelta(days=3)
        )
        token = manage_token(old)
        db.session.commit()
        assert (
            personal_data.anonymise_past_registrations(
                now=now - timedelta(days=20), retention_days=30
            )
            == 0
        )  # not yet
        db.session.rollback()
        old_id, new_id = old.id, new.id
    result = runner.invoke(args=["jobs", "run"])
    assert "1 registrations anonymised" in result.output
    with app.app_context():
        old, new = db.session.get(Registration, old_id), db.session.get(Registration, new_id)
        assert (old.name, old.organisation_name) == ("", "")
        assert "@" not in old.email and old.anonymised_at is not None
        assert old.status == "confirmed" and old.attended  # the statistics stay
        assert new.name == "Person 2"
    assert app.test_client().get(f"/registrations/{token}").status_code == 404


def _world(app) -> dict:
    with app.app_context():
        partner = make_organisation(OrganisationKind.PARTNER)
        format = make_format()
        session = make_session(format, capacity=1)
        mine = rules.register_for_session(
            session, applicant("me", name="Ayşe Demir", email=EMAIL), now=utcnow()
        )
        waiting = rules.register_for_session(session, applicant("w"), now=utcnow())
        subscriptions.request_subscription(format, EMAIL, "tr", now=utcnow())
        make_user(Role.PARTNER, partner, email=EMAIL, name="Ayşe Demir")
        db.session.commit()
        return {"mine": mine.id, "waiting": waiting.id}


def test_export_and_erasure_through_the_emailed_link(app, client):
    ids = _world(app)
    response = client.post(
        "/privacy/my-data",
        data={"email": "Ayse.Demir@Example.org", "csrf_token": csrf_token(client, "/privacy")},
    )
    assert response.status_code == 303
    with app.app_context():
        mail = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("data-link:%"))
        ).scalar_one()
        assert mail.recipient == EMAIL
        link = re.search(r"http://eventsapp.test(/my-data/[^\s?]+)", mail.body_text).group(1)

    page = client.get(link).get_data(as_text=True)
    assert "Ayşe Demir" in page and EMAIL in page
    data = client.get(link + ".json").get_json()
    assert data["email"] == EMAIL
    assert [r["name"] for r in data["registrations"]] == ["Ayşe Demir"]
    assert data["subscriptions"][0]["status"] == "pending"
    assert data["account"]["name"] == "Ayşe Demir"
    assert data["calendar_feed"] is not None
    assert len(data["mails"]) >= 2
    # The registration mail is not rendered yet (no worker ran), yet its subject is shown.
    assert any(m["subject"].startswith("Anmeldung bestätigt: ") for m in data["mails"])
    assert all(m["subject"] for m in data["mails"])

    response = client.post(link + "/erase", data={"csrf_token": csrf_token(client, link)})
    assert response.status_code == 200
    with app.app_context():
        assert _everything_mentioning(EMAIL) == []
        assert _everything_mentioning("Ayşe Demir") == []
        # The seat went to the waitlist, and that person hears about it.
        assert db.session.get(Registration, ids["waiting"]).status == "confirmed"
        assert db.session.execute(
            select(OutboxMessage).where(
                OutboxMessage.dedupe_key == f"registration:{ids['waiting']}:promoted"
            )
        ).first()
        assert db.session.get(Registration, ids["mine"]).status == "cancelled"
        assert db.session.execute(text("SELECT count(*) FROM registrations")).scalar_one() == 2
    assert client.get(link).status_code == 404  # the data link died with the data


def test_data_links_expire_and_cannot_be_forged(app, client):
    with app.app_context():
        token = access_links.issue_link(AccessPurpose.DATA, EMAIL, now=utcnow())
        db.session.commit()
    response = client.get(f"/my-data/{token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        link = db.session.execute(select(AccessLink)).scalar_one()
        link.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get(f"/my-data/{token}").status_code == 404
    assert client.get("/my-data/forged-token").status_code == 404
    assert client.post(f"/my-data/{token}/erase", data={}).status_code == 400


def test_data_link_tokens_carry_no_personal_data(app):
    """The link is random: neither the address nor any part of it is in the token."""
    with app.app_context():
        token = access_links.issue_link(AccessPurpose.DATA, EMAIL, now=utcnow())
        db.session.commit()
        stored = db.session.execute(select(AccessLink)).scalar_one()
    padded = token + "=" * (-len(token) % 4)
    decoded = base64.urlsafe_b64decode(padded)
    assert EMAIL.encode() not in decoded and b"persona" not in decoded
    assert stored.token_hash != token and token not in stored.token_hash


def test_the_request_form_reveals_nothing(app, client):
    token = csrf_token(client, "/privacy")
    for email in ("nobody@example.org", EMAIL):
        response = client.post(
            "/privacy/my-data", data={"email": email, "csrf_token": token}, follow_redirects=True
        )
        assert "Wenn wir Daten zu dieser Adresse haben" in response.get_data(as_text=True)
    bad = client.post("/privacy/my-data", data={"email": "a@b.de, c@d.de", "csrf_token": token})
    assert bad.status_code == 422


def test_accessibility_feedback_reaches_the_contact_address(app, client):
    token = csrf_token(client, "/accessibility")
    empty = client.post("/accessibility", data={"message": "", "csrf_token": token})
    assert empty.status_code == 422
    response = client.post(
        "/accessibility",
        data={
            "message": "Der Kalender-Link ist mit dem Screenreader nicht zu finden.",
            "email": "leser@example.org",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    with app.app_context():
        mail = db.session.execute(select(OutboxMessage)).scalar_one()
        assert mail.recipient == app.config["EVENTSAPP_ACCESSIBILITY_CONTACT"]
        assert "Screenreader" in mail.body_text and "leser@example.org" in mail.body_text


def test_legal_pages_exist(client):
    for url in ("/privacy", "/imprint", "/accessibility", "/easy-language"):
        assert client.get(url).status_code == 200, url


def _feedback(client, email: str, message: str) -> None:
    response = client.post(
        "/accessibility",
        data={
            "message": message,
            "email": email,
            "csrf_token": csrf_token(client, "/accessibility"),
        },
    )
    assert response.status_code == 303


def test_erasure_reaches_mail_that_names_the_address_and_kills_every_link(app, client):
    """Accessibility feedback goes to the contact address but holds the sender's address:
    the export lists it, the erasure removes it, sent or not; every mailed link dies."""
    _world(app)
    _feedback(client, EMAIL, "Die Schrift ist zu klein.")
    with app.app_context():
        # One feedback mail went out already; the data link was asked for twice.
        sent = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("accessibility-feedback:%"))
        ).scalar_one()
        sent.status, sent.sent_at = "sent", utcnow()
        first = access_links.issue_link(AccessPurpose.DATA, EMAIL, now=utcnow())
        second = access_links.issue_link(AccessPurpose.DATA, EMAIL, now=utcnow())
        calendar = access_links.issue_link(AccessPurpose.CALENDAR, EMAIL, now=utcnow())
        db.session.commit()
    _feedback(client, EMAIL, "Und der Kontrast auch.")  # a second one, not sent yet

    data = client.get(f"/my-data/{first}.json").get_json()
    assert sum(1 for m in data["mails"] if not m["to_you"]) == 2  # both feedback mails

    response = client.post(
        f"/my-data/{first}/erase", data={"csrf_token": csrf_token(client, f"/my-data/{first}")}
    )
    assert response.status_code == 200
    for token in (first, second):
        assert client.get(f"/my-data/{token}").status_code == 404
    assert client.get(f"/my-calendar/{calendar}").status_code == 404
    with app.app_context():
        assert _everything_mentioning(EMAIL) == []
        assert _everything_mentioning("Ayşe Demir") == []
        assert _everything_mentioning("Schrift ist zu klein") == []


def test_after_retention_no_table_holds_the_address_or_name(app, runner):
    """Mail in every state (sent, dead, never sent, not yet rendered), the personal feed and
    the mailed links of a person whose sessions are long past hold nothing of them."""
    with app.app_context():
        now = utcnow()
        session = make_session(starts_at=now - timedelta(days=45))
        person = applicant("old", name="Ayşe Demir", email=EMAIL)
        registration = rules.register_for_session(
            session, person, now=session.starts_at - timedelta(days=5)
        )
        feeds.personal_feed_for(EMAIL, now=now - timedelta(days=44))
        access_links.issue_link(AccessPurpose.CALENDAR, EMAIL, now=now - timedelta(days=44))
        db.session.flush()
        mails = db.session.execute(select(OutboxMessage)).scalars().all()
        assert mails and all(m.recipient == EMAIL for m in mails)
        # One sent, one dead after its attempts, one left pending (a worker never ran).
        states = ["sent", "dead", "pending"]
        for extra in range(len(states) - len(mails)):
            rules.resend_manage_link(
                registration.id, EMAIL, "de", now=now - timedelta(days=44, seconds=extra)
            )
        db.session.flush()
        mails = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        for mail, state in zip(mails, states, strict=False):
            mail.status = state
            mail.created_at = now - timedelta(days=44)
            mail.body_text = f"Guten Tag Ayşe Demir, {EMAIL}"
            if state == "sent":
                mail.sent_at = now - timedelta(days=44)
        db.session.commit()
        assert _everything_mentioning(EMAIL)
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _everything_mentioning(EMAIL) == []
        assert _everything_mentioning("Ayşe Demir") == []
        statuses = db.session.execute(select(OutboxMessage.status)).scalars().all()
        assert "pending" not in statuses  # nothing is left to send with its text gone


def test_a_hosts_contact_address_gets_neither_the_export_nor_the_erasure_of_others_mail(
    mail_app, smtp_server
):
    """Every mail about a session names its host's contact (Reply-To, and often the
    practical contact): that makes them the registrants' mail, not the contact's data."""
    contact = "dialog@polizei-dortmund.example"
    with mail_app.app_context():
        session = make_session()
        session.host_organisation.contact_email = contact
        rules.register_for_session(session, applicant("guest"), now=utcnow())
        db.session.commit()
        deliver_due(now=utcnow())
        (sent,) = db.session.execute(select(OutboxMessage)).scalars().all()
        assert contact in sent.extra_headers
        data = personal_data.export(contact)
        assert data["mails"] == [] and data["registrations"] == []
        personal_data.erase(contact, now=utcnow())
        db.session.commit()
        assert db.session.execute(select(OutboxMessage)).scalars().all() == [sent]
