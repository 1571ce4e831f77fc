"""Every route in app.url_map: writes need a valid CSRF token, reads write nothing."""

from __future__ import annotations

from datetime import timedelta

from eventsapp.database import db, utcnow
from eventsapp.models import (
    AccessPurpose,
    Contingent,
    FeedbackResponse,
    OrganisationKind,
    Role,
    SessionStatus,
)
from eventsapp.services import access_links, feeds, subscriptions
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import login
from tests.factories import applicant, make_format, make_organisation, make_session, make_user

# RFC 8058 one-click unsubscribe is POSTed by mail providers without any form: the secret
# token in its address authorises it (docs/decisions.md).
CSRF_EXEMPT = {"public.unsubscribe"}


def _world(app) -> dict:
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, slug="polizei")
        partner = make_organisation(OrganisationKind.PARTNER, slug="vmdo")
        format = make_format(host, slug="blick")
        session = make_session(format, capacity=3)
        draft = make_session(
            format, status=SessionStatus.DRAFT, starts_at=utcnow() + timedelta(days=30)
        )
        registration = rules.register_for_session(session, applicant("a"), now=utcnow())
        feed = feeds.personal_feed_for(registration.email, now=utcnow())
        contingent = Contingent(
            session_id=session.id,
            organisation=partner,
            seats=1,
            release_at=session.starts_at - timedelta(days=1),
        )
        db.session.add(contingent)
        answer = FeedbackResponse(session=session, round_on=session.starts_at.date())
        db.session.add(answer)
        subscriptions.request_subscription(format, "fan@example.org", "de", now=utcnow())
        admin = make_user(Role.ADMIN, email="admin@example.org")
        db.session.commit()
        from sqlalchemy import select

        from eventsapp.models import Subscription

        subscription = db.session.execute(select(Subscription)).scalar_one()
        return {
            "format_id": format.id,
            "session_id": session.id,
            "draft_id": draft.id,
            "registration_id": registration.id,
            "contingent_id": contingent.id,
            "response_id": answer.id,
            "table": "participation",
            "organisation_id": host.id,
            "user_id": admin.id,
            "slug": "blick",
            "token": manage_token(registration),
            "subscription": subscriptions.subscription_token(subscription),
            "feed": feeds.feed_token(feed),
            "data": access_links.issue_link(
                AccessPurpose.DATA, "persona@example.org", now=utcnow()
            ),
            "calendar": access_links.issue_link(
                AccessPurpose.CALENDAR, "persona@example.org", now=utcnow()
            ),
        }


def _url(rule, world: dict) -> str:
    values = {}
    for name in rule.arguments:
        if name == "token":
            key = {
                "public.confirm_subscription": "subscription",
                "public.unsubscribe": "subscription",
                "feeds.personal": "feed",
                "public.my_data": "data",
                "public.my_data_download": "data",
                "public.erase_my_data": "data",
                "public.my_calendar": "calendar",
                "public.my_calendar_update": "calendar",
            }.get(rule.endpoint, "token")
            values[name] = world[key]
        elif name == "slug":
            values[name] = "vmdo" if rule.endpoint == "feeds.organisation_feed" else "blick"
        elif name == "session_id" and rule.endpoint == "organiser.session_skip":
            values[name] = world["draft_id"]
        elif name == "filename":
            values[name] = "style.css"
        else:
            values[name] = world[name]
    url = rule.rule
    for name, value in values.items():
        url = url.replace(f"<{name}>", str(value)).replace(f"<int:{name}>", str(value))
        url = url.replace(f"<path:{name}>", str(value))
    return url


def _snapshot(app) -> dict:
    with app.app_context():
        return {
            table.name: sorted(map(repr, db.session.execute(table.select()).all()))
            for table in db.metadata.sorted_tables
        }


def test_every_write_needs_a_valid_csrf_token(app):
    world = _world(app)
    client = app.test_client()
    assert login(client, "admin@example.org").status_code == 303
    before = _snapshot(app)
    checked = []
    for rule in app.url_map.iter_rules():
        if not (rule.methods - {"GET", "HEAD", "OPTIONS"}) or rule.endpoint in CSRF_EXEMPT:
            continue
        url = _url(rule, world)
        for token in (None, "forged"):
            data = {} if token is None else {"csrf_token": token}
            response = client.post(url, data=data)
            assert response.status_code == 400, (rule.endpoint, token, response.status_code)
        assert _snapshot(app) == before, rule.endpoint
        checked.append(rule.endpoint)
    assert len(checked) >= 30


def test_every_read_writes_nothing(app):
    world = _world(app)
    client = app.test_client()
    assert login(client, "admin@example.org").status_code == 303
    before = _snapshot(app)
    checked = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = _url(rule, world)
        response = client.get(url)
        response.close()
        assert response.status_code < 500, (rule.endpoint, response.status_code)
        assert _snapshot(app) == before, rule.endpoint
        checked.append(rule.endpoint)
    anonymous = app.test_client()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            response = anonymous.get(_url(rule, world))
            response.close()
            assert response.status_code < 500, rule.endpoint
    assert _snapshot(app) == before
    assert len(checked) >= 35
