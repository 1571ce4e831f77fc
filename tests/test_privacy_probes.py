"""What a stranger can learn by trying: nothing about who registered for what.

Each test repeats a probe an attacker made against a running instance: registering with
someone else's address, registering or subscribing again to see what the answer says,
rotating ways of writing one address past its rate limit.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.models import (
    OrganisationKind,
    OutboxMessage,
    Registration,
    Role,
    SubscriptionStatus,
    Visibility,
)
from eventsapp.services import feeds, subscriptions
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import CSRF_RE, csrf_token, login, make_app
from tests.factories import (
    applicant,
    make_format,
    make_organisation,
    make_session,
    make_user,
)

VICTIM = "victim@example.org"
MEMBER = "member@vmdo.example"


def _mail_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()


def _register(client, session_id: int, email: str, name: str = "Someone Else"):
    return client.post(
        f"/sessions/{session_id}/register",
        data={
            "name": name,
            "email": email,
            "language": "de",
            "consent": "y",
            "csrf_token": csrf_token(client, f"/sessions/{session_id}"),
        },
    )


@pytest.fixture
def victims(app) -> dict:
    """Two people with registrations and calendar feeds: one without an account, one
    partner member (whose feed also shows what their organisation hosts)."""
    with app.app_context():
        partner = make_organisation(OrganisationKind.PARTNER, slug="vmdo", name="VMDO")
        hidden = make_format(slug="runder-tisch", title="Runder Tisch Nord")
        closed = make_format(
            slug="nur-partner", title="Vertrauliche Runde", visibility=Visibility.PARTNERS
        )
        bait = make_format(slug="blick", title="Blick in die Polizei")
        theirs = make_session(hidden, venue_name="Hinterhof 7")
        partners_only = make_session(closed, venue_name="Geheimraum 3")
        target = make_session(bait, capacity=10)
        rules.register_for_session(theirs, applicant("v", email=VICTIM), now=utcnow())
        member = make_user(Role.PARTNER, partner, email=MEMBER, name="Mitglied")
        rules.register_for_session(partners_only, rules.Applicant.from_user(member), now=utcnow())
        rules.register_for_session(theirs, rules.Applicant.from_user(member), now=utcnow())
        feed_tokens = {
            email: feeds.feed_token(feeds.personal_feed_for(email, now=utcnow()))
            for email in (VICTIM, MEMBER)
        }
        db.session.commit()
        return {"target": target.id, "feeds": feed_tokens}


@pytest.mark.parametrize("email", [VICTIM, MEMBER])
def test_registering_with_someone_elses_address_shows_and_changes_nothing_of_theirs(
    app, victims, email
):
    client = app.test_client()
    feed_url = f"/feeds/{victims['feeds'][email]}.ics"
    before = client.get(feed_url)
    assert before.status_code == 200 and b"Runder Tisch Nord" in before.data

    response = _register(client, victims["target"], email)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/sessions/{victims['target']}/registered"
    answer = client.get(response.headers["Location"]).get_data(as_text=True)

    # Suppose the attacker even held the new registration's manage link.
    with app.app_context():
        new = db.session.execute(
            select(Registration).where(
                Registration.email == email, Registration.session_id == victims["target"]
            )
        ).scalar_one()
        manage = f"/registrations/{manage_token(new)}"
    page = client.get(manage)
    assert page.headers["Cache-Control"] == "no-store"
    for text in (answer, page.get_data(as_text=True)):
        for secret in ("/feeds/", victims["feeds"][email], "Runder Tisch", "Hinterhof", "Geheim"):
            assert secret not in text

    mails = _mail_count(app)
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    calendar = client.post(f"{manage}/calendar", data={"csrf_token": token})
    assert calendar.status_code == 303
    followed = client.get(calendar.headers["Location"]).get_data(as_text=True)
    assert "/feeds/" not in followed and "Runder Tisch" not in followed
    with app.app_context():
        mail = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc())).scalars()
        newest = next(mail)
        assert newest.recipient == email  # the calendar link goes to the mailbox only
    assert _mail_count(app) == mails + 1
    confirmed = {"csrf_token": token, "confirmed": "1"}
    assert client.post(f"{manage}/cancel", data=confirmed).status_code == 303

    after = client.get(feed_url)
    assert after.status_code == 200  # the owner's feed still works, unchanged in content
    assert b"Runder Tisch Nord" in after.data
    with app.app_context():
        left = db.session.execute(
            select(Registration.status).where(
                Registration.email == email, Registration.session_id != victims["target"]
            )
        ).scalars()
        assert set(left) == {"confirmed"}


def _without_csrf(text: str) -> str:
    return CSRF_RE.sub('name="csrf_token" type="hidden" value=""', text)


def _answer(client, response) -> tuple:
    """Everything a response shows a visitor, and the page it leads to."""
    # The time of day (limit windows) and cookies, not the address.
    clock = ("Date", "Set-Cookie", "X-RateLimit-Reset", "Retry-After")
    headers = sorted((name, value) for name, value in response.headers if name not in clock)
    cookies = sorted(h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie"))
    page = client.get(response.headers["Location"]) if response.status_code == 303 else None
    return (
        response.status_code,
        headers,
        cookies,
        response.get_data(),
        page and (page.status_code, _without_csrf(page.get_data(as_text=True))),
    )


def test_registering_answers_the_same_for_a_new_and_a_registered_address(app):
    with app.app_context():
        session_id = make_session(capacity=10).id
        rules.register_for_session(session_id, applicant("k", email=VICTIM), now=utcnow())
        db.session.commit()
    answers = []
    for n, email in enumerate(("new@example.org", VICTIM)):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"  # a visitor each
        data = {
            "name": "Probe",
            "email": email,
            "language": "de",
            "consent": "y",
            "csrf_token": csrf_token(client, f"/sessions/{session_id}"),
        }
        mails = _mail_count(app)
        response = client.post(f"/sessions/{session_id}/register", data=data)
        assert _mail_count(app) == mails + 1  # the difference goes to the mailbox only
        answers.append(_answer(client, response))
    assert answers[0] == answers[1]
    assert answers[0][0] == 303
    # Not an error box: the one page for both says a registered address gets its link again.
    sent = app.test_client().get(f"/sessions/{session_id}/registered").get_data(as_text=True)
    assert "Waren Sie schon angemeldet, bekommen Sie Ihren Link noch einmal." in sent
    assert "error" not in sent.split('<main id="main"', 1)[1]


def test_subscribing_answers_the_same_for_new_pending_and_confirmed_addresses(app):
    with app.app_context():
        format = make_format(slug="blick")
        make_session(format)
        subscriptions.request_subscription(format, "pending@example.org", "de", now=utcnow())
        subscriptions.request_subscription(format, "confirmed@example.org", "de", now=utcnow())
        db.session.flush()
        confirmed = subscriptions._find(format, "confirmed@example.org")
        subscriptions.confirm(confirmed, now=utcnow())
        db.session.commit()
        assert confirmed.status == SubscriptionStatus.CONFIRMED
    answers = []
    for n, email in enumerate(("new@example.org", "pending@example.org", "confirmed@example.org")):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"  # a visitor each
        token = csrf_token(client, "/formats/blick")
        mails = _mail_count(app)
        response = client.post(
            "/formats/blick/subscribe", data={"email": email, "language": "de", "csrf_token": token}
        )
        assert _mail_count(app) == mails + 1
        answers.append(_answer(client, response))
    assert answers[0] == answers[1] == answers[2]
    assert "Fast geschafft" in answers[0][4][1]


VARIANTS = {
    "fullwidth": [
        "partner3@vmdo.example",
        "partner3@ｖｍｄｏ.example",
        "ｐａｒｔｎｅｒ3@vmdo.example",
    ],
    "mixed case": ["Partner3@VMDO.example", "PARTNER3@vmdo.EXAMPLE", "partner3@Vmdo.Example"],
    "IDNA": ["ayşe@örnek.de", "AYŞE@ÖRNEK.DE", "ayşe@xn--rnek-4qa.de"],
}


@pytest.mark.parametrize("kind", sorted(VARIANTS))
def test_per_address_limits_hold_for_every_way_of_writing_the_address(tmp_path, kind):
    app = make_app(
        tmp_path,
        REGISTER_RATE_LIMIT="1000 per minute",
        REGISTER_RATE_LIMIT_PER_EMAIL="3 per hour",
        LOGIN_RATE_LIMIT="1000 per minute",
        LOGIN_RATE_LIMIT_PER_EMAIL="3 per hour",
    )
    with app.app_context():
        db.create_all()
        ids = [make_session(capacity=5).id for _ in range(4)]
        db.session.commit()
    client = app.test_client()
    addresses = VARIANTS[kind]
    codes = [
        _register(client, session_id, address).status_code
        for session_id, address in zip(ids, [*addresses, addresses[0].upper()], strict=True)
    ]
    assert codes == [303, 303, 303, 429]
    logins = [login(client, address, "wrong").status_code for address in addresses]
    assert logins == [422, 422, 422]
    assert login(client, addresses[1].swapcase(), "wrong").status_code == 429


def test_mail_about_a_place_is_not_sent_once_its_session_is_cancelled(app):
    """Queued before the cancellation, rendered after: the confirmation would say
    "confirmed" next to a cancelled calendar entry. It is dropped; the cancellation mail
    tells the truth."""
    from eventsapp.mail.delivery import deliver_due
    from eventsapp.services.scheduling import cancel_session

    with app.app_context():
        session = make_session(capacity=5)
        registration = rules.register_for_session(session, applicant("c"), now=utcnow())
        cancel_session(session, reason="Krankheit", now=utcnow())
        db.session.commit()
        deliver_due(now=utcnow() + timedelta(seconds=1))
        rows = db.session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.status).where(
                OutboxMessage.registration_id == registration.id
            )
        ).all()
    status = dict(rows)
    assert status[f"registration:{registration.id}:received"] == "dead"
    assert status[f"registration:{registration.id}:session-cancelled"] == "sent"


def test_accessibility_feedback_is_rate_limited_and_has_a_honeypot(tmp_path):
    app = make_app(tmp_path, FEEDBACK_RATE_LIMIT="3 per hour")
    with app.app_context():
        db.create_all()
    client = app.test_client()
    token = csrf_token(client, "/accessibility")
    robot = client.post(
        "/accessibility",
        data={"message": "Spam", "website": "http://spam.example", "csrf_token": token},
    )
    assert robot.status_code == 303 and _mail_count(app) == 0
    codes = [
        client.post(
            "/accessibility", data={"message": f"Barriere {n}", "csrf_token": token}
        ).status_code
        for n in range(3)
    ]
    assert codes == [303, 303, 429]  # the robot's post counted too
    assert _mail_count(app) == 2


def test_no_link_token_names_a_person(app):
    """Data, calendar and password links are random: nothing in them decodes to an
    address or an account id (the old signed tokens carried both in readable base64)."""
    import base64

    from eventsapp.services import personal_data
    from eventsapp.services.accounts import invite_user

    with app.app_context():
        user = make_user(Role.ORGANISER, email="orga@example.org", password=None)
        invite_user(user, now=utcnow())
        personal_data.send_data_link(VICTIM, "de", now=utcnow())
        feeds.send_calendar_link(VICTIM, "de", now=utcnow())
        db.session.commit()
        bodies = db.session.execute(select(OutboxMessage.body_text)).scalars().all()
    tokens = re.findall(r"/(?:my-data|my-calendar|auth/set-password)/([\w-]+)", "\n".join(bodies))
    assert len(tokens) == 3
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) == 32
        assert b"victim" not in raw and b"orga" not in raw and b'"user"' not in raw


def test_pages_behind_secret_links_are_not_stored(app):
    """Manage, data, calendar, subscription and password pages: `no-store`, so a shared
    computer's browser cache or a proxy keeps none of them. Feeds keep their caching."""
    from eventsapp.models import AccessPurpose
    from eventsapp.services import access_links
    from eventsapp.services.accounts import password_link_token

    with app.app_context():
        format = make_format(slug="blick")
        session = make_session(format)
        registration = rules.register_for_session(session, applicant("s"), now=utcnow())
        subscriptions.request_subscription(format, VICTIM, "de", now=utcnow())
        db.session.flush()
        subscription = subscriptions._find(format, VICTIM)
        user = make_user(Role.ORGANISER, email="neu@example.org", password=None)
        urls = [
            f"/registrations/{manage_token(registration)}",
            f"/my-data/{access_links.issue_link(AccessPurpose.DATA, VICTIM, now=utcnow())}",
            f"/my-calendar/{access_links.issue_link(AccessPurpose.CALENDAR, VICTIM, now=utcnow())}",
            f"/subscriptions/{subscriptions.subscription_token(subscription)}/confirm",
            f"/subscriptions/{subscriptions.subscription_token(subscription)}/unsubscribe",
            f"/auth/set-password/{password_link_token(user, now=utcnow())}",
        ]
        feed = f"/feeds/{feeds.feed_token(feeds.personal_feed_for(VICTIM, now=utcnow()))}.ics"
        page = f"/sessions/{session.id}"
        db.session.commit()
    client = app.test_client()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    assert client.get(feed).headers["Cache-Control"] == "private, max-age=300"
    assert "no-store" not in client.get(page).headers.get("Cache-Control", "")
