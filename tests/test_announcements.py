"""New dates reach partners and subscribers as one digest each; subscriptions are opt-in."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.models import (
    Format,
    OrganisationKind,
    OutboxMessage,
    Session,
    SessionStatus,
    Subscription,
    SubscriptionStatus,
)
from eventsapp.services import scheduling, subscriptions
from tests.conftest import csrf_token
from tests.factories import make_format, make_organisation, make_session


def _drafts(format, n: int = 3) -> list[Session]:
    return [
        make_session(
            format, status=SessionStatus.DRAFT, starts_at=utcnow() + timedelta(days=20 + 7 * i)
        )
        for i in range(n)
    ]


def _subscriber(format, email: str, status=SubscriptionStatus.CONFIRMED) -> None:
    subscriptions.request_subscription(format, email, "de", now=utcnow())
    subscription = db.session.execute(
        select(Subscription).where(Subscription.email == email)
    ).scalar_one()
    if status == SubscriptionStatus.CONFIRMED:
        subscriptions.confirm(subscription, now=utcnow())


def test_publishing_three_dates_sends_42_digests_once_each(mail_app, smtp_server):
    with mail_app.app_context():
        host = make_organisation(OrganisationKind.HOST)
        for n in range(12):
            make_organisation(OrganisationKind.PARTNER, contact_email=f"partner{n}@verein.example")
        make_organisation(OrganisationKind.PARTNER, contact_email=None)  # no address: skipped
        format = make_format(host, title="Blick in die Polizei")
        for n in range(30):
            _subscriber(format, f"fan{n}@example.org")
        for n in range(5):
            _subscriber(format, f"unsure{n}@example.org", status=SubscriptionStatus.PENDING)
        drafts = _drafts(format)
        db.session.commit()
        deliver_due(now=utcnow())  # the 35 opt-in mails
        smtp_server.sink.messages.clear()

        scheduling.publish_sessions(format, drafts, now=utcnow())
        db.session.commit()
        while deliver_due(now=utcnow()).sent:
            pass
        deliver_due(now=utcnow())  # a second pass sends nothing more
        session_ids = [s.id for s in drafts]

    messages = smtp_server.sink.messages
    assert len(messages) == 42
    recipients = [m.rcpt_tos[0] for m in messages]
    assert len(set(recipients)) == 42
    assert not any(r.startswith("unsure") for r in recipients)
    assert len({m.message["Message-ID"] for m in messages}) == 42
    for received in messages:
        message = received.message
        assert message["Subject"] == "Neue Termine: Blick in die Polizei"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert re.fullmatch(
            r"<http://eventsapp\.test/subscriptions/\S+/unsubscribe>", message["List-Unsubscribe"]
        )
        text = message.get_body(("plain",)).get_content()
        assert all(f"/sessions/{i}" in text for i in session_ids)
        assert message.get_body(("html",)) is not None
        attachment = next(part for part in message.iter_attachments())
        assert attachment.get_content_type() == "text/calendar"
        calendar = icalendar.Calendar.from_ical(attachment.get_content())
        assert len(list(calendar.walk("VEVENT"))) == 3


def test_one_click_unsubscribe_stops_the_next_digest(mail_app, smtp_server):
    with mail_app.app_context():
        partner = make_organisation(
            OrganisationKind.PARTNER, contact_email="kontakt@verein.example"
        )
        format = make_format(make_organisation(OrganisationKind.HOST))
        scheduling.publish_sessions(format, _drafts(format, 1), now=utcnow())
        db.session.commit()
        deliver_due(now=utcnow())
        assert partner.contact_email in smtp_server.sink.messages[0].rcpt_tos
        format_id = format.id
    link = smtp_server.sink.messages[0].message["List-Unsubscribe"].strip("<>")
    path = link.replace("http://eventsapp.test", "")
    # RFC 8058: the mail provider POSTs this body, without cookies or a CSRF token.
    response = mail_app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    with mail_app.app_context():
        format = db.session.get(Format, format_id)
        scheduling.publish_sessions(format, _drafts(format, 1), now=utcnow())
        db.session.commit()
        assert (
            db.session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.dedupe_key.like("publication:2:%"))
            ).scalar_one()
            == 0
        )


def test_double_opt_in_over_http(app, client):
    with app.app_context():
        format = make_format(slug="blick", title="Blick in die Polizei")
        make_session(format)
        db.session.commit()
    page = client.get("/formats/blick").get_data(as_text=True)
    assert re.search(r"<title>(.*?)</title>", page, re.S).group(1) == (
        "Blick in die Polizei – Dialog-Termine"
    )
    token = csrf_token(client, "/formats/blick")
    for email in ("neu@example.org", "NEU@example.org"):  # twice: one row, a mail each time
        response = client.post(
            "/formats/blick/subscribe", data={"email": email, "language": "de", "csrf_token": token}
        )
        assert response.status_code == 303
    bad = client.post(
        "/formats/blick/subscribe",
        data={"email": "a@b.de, c@d.de", "language": "de", "csrf_token": token},
    )
    assert bad.status_code == 422 and "gültige E-Mail-Adresse" in bad.get_data(as_text=True)
    with app.app_context():
        subscription = db.session.execute(select(Subscription)).scalar_one()
        assert subscription.status == SubscriptionStatus.PENDING
        mails = db.session.execute(select(OutboxMessage)).scalars().all()
        assert len(mails) == 2 and all(m.subject.startswith("Bitte bestätigen") for m in mails)
        assert "Termine" not in mails[0].body_text.split("\n")[0]
        link = re.search(
            r"http://eventsapp.test(/subscriptions/\S+/confirm)", mails[-1].body_text
        ).group(1)

    page = client.get(link)  # a mail scanner following the link confirms nothing
    assert page.status_code == 200
    with app.app_context():
        assert db.session.execute(select(Subscription.status)).scalar_one() == "pending"
    response = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert "Danke!" in response.get_data(as_text=True)
    with app.app_context():
        subscription = db.session.execute(select(Subscription)).scalar_one()
        assert subscription.status == SubscriptionStatus.CONFIRMED
        assert subscription.confirmed_at is not None
        assert subscription.consent_text_version == subscriptions.CONSENT_VERSION


def test_unconfirmed_subscriptions_are_deleted_after_seven_days(app, runner):
    with app.app_context():
        format = make_format()
        subscriptions.request_subscription(
            format, "old@example.org", "de", now=utcnow() - timedelta(days=8)
        )
        subscriptions.request_subscription(format, "new@example.org", "de", now=utcnow())
        db.session.commit()
    result = runner.invoke(args=["jobs", "run"])
    assert "1 unconfirmed subscriptions deleted" in result.output
    with app.app_context():
        assert db.session.execute(select(Subscription.email)).scalars().all() == ["new@example.org"]


def test_account_holders_follow_formats_from_their_account(app):
    from eventsapp.models import Role
    from tests.conftest import login
    from tests.factories import make_user

    with app.app_context():
        partner = make_organisation(OrganisationKind.PARTNER)
        make_user(Role.PARTNER, partner, email="mitglied@verein.example")
        first = make_format(title="Erstes")
        make_format(title="Zweites")
        db.session.commit()
        first_id = first.id
    client = app.test_client()
    login(client, "mitglied@verein.example")
    response = client.post(
        "/auth/account/follow",
        data={"formats": [first_id], "csrf_token": csrf_token(client, "/auth/account")},
    )
    assert response.status_code == 303
    with app.app_context():
        rows = db.session.execute(select(Subscription)).scalars().all()
        assert [(r.format_id, r.status, r.source) for r in rows] == [
            (first_id, "confirmed", "account")
        ]


def test_a_format_can_announce_to_selected_partners_only(mail_app, smtp_server):
    with mail_app.app_context():
        chosen = make_organisation(OrganisationKind.PARTNER, contact_email="ja@verein.example")
        make_organisation(OrganisationKind.PARTNER, contact_email="nein@verein.example")
        format = make_format(
            make_organisation(OrganisationKind.HOST), announce_to_all_partners=False
        )
        format.announcement_partners = [chosen]
        _subscriber(format, "fan@example.org")
        scheduling.publish_sessions(format, _drafts(format, 2), now=utcnow())
        db.session.commit()
        smtp_server.sink.messages.clear()
        deliver_due(now=utcnow())
    assert sorted(
        m.rcpt_tos[0]
        for m in smtp_server.sink.messages
        if m.message["Subject"].startswith("Neue Termine")
    ) == ["fan@example.org", "ja@verein.example"]


def test_a_partners_digest_comes_in_the_language_the_admin_chose_for_it(app, client):
    from eventsapp.models import Organisation, Role
    from tests.conftest import login
    from tests.factories import make_user

    with app.app_context():
        partner = make_organisation(
            OrganisationKind.PARTNER,
            name="Türkischer Elternverein",
            contact_email="veli@tev.example",
        )
        make_user(Role.ADMIN, email="admin@example.org")
        format = make_format(make_organisation(OrganisationKind.HOST), title="Blick in die Polizei")
        format.translations = {"tr": {"title": "Polise Bakış"}}
        scheduling.publish_sessions(format, _drafts(format, 1), now=utcnow())  # German still
        db.session.commit()
        partner_id, format_id = partner.id, format.id
    login(client, "admin@example.org")
    url = f"/admin/organisations/{partner_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'name="language"' in page
    answer = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "name": "Türkischer Elternverein",
            "kind": "partner",
            "contact_email": "veli@tev.example",
            "language": "tr",
        },
    )
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.get(Organisation, partner_id).language == "tr"
        format = db.session.get(Format, format_id)
        scheduling.publish_sessions(format, _drafts(format, 1), now=utcnow())
        db.session.commit()
        digests = (
            db.session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == "veli@tev.example")
                .order_by(OutboxMessage.id)
            )
            .scalars()
            .all()
        )
    assert [d.language for d in digests] == ["de", "tr"]
    assert digests[0].subject == "Neue Termine: Blick in die Polizei"
    assert digests[1].subject == "Yeni tarihler: Polise Bakış"
