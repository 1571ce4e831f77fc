"""Every back-office route against every kind of visitor: deny by default, no data leaks.

Each route is tried by an anonymous visitor, a partner member, an organiser of another
organisation, the organiser who owns the data, and an admin, with real ids of the owner's
records (an IDOR attempt for everyone else). Denied requests must change nothing.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from eventsapp import create_app
from eventsapp.database import db, utcnow
from eventsapp.models import (
    Contingent,
    FeedbackResponse,
    Format,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    Registration,
    Role,
    Session,
    SessionStatus,
    TextsState,
    User,
)
from eventsapp.services import registrations as rules
from tests.conftest import csrf_token, login, make_app
from tests.factories import applicant, make_format, make_organisation, make_session, make_user

SECRET_TITLE = "Format-A-Vertraulich"
SECRET_NAME = "Registrierte Person A"


def _back_office_rules():
    app = create_app("TestConfig", SQLALCHEMY_DATABASE_URI="sqlite://")
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("organiser", "admin"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, rule.rule, method))
    return sorted(found)


ROUTES = _back_office_rules()


def _world(app) -> dict:
    with app.app_context():
        own = make_organisation(OrganisationKind.HOST, name="Polizei A")
        other = make_organisation(OrganisationKind.HOST, name="Stadt B")
        partner = make_organisation(OrganisationKind.PARTNER, name="Verein P")
        format = make_format(own, title=SECRET_TITLE)
        session = make_session(format, capacity=5)
        draft = make_session(
            format, status=SessionStatus.DRAFT, starts_at=utcnow() + timedelta(days=30)
        )
        registration = rules.register_for_session(
            session, applicant("a", name=SECRET_NAME), now=utcnow()
        )
        contingent = Contingent(
            session_id=session.id,
            organisation=partner,
            seats=1,
            release_at=session.starts_at - timedelta(days=1),
        )
        db.session.add(contingent)
        # Five anonymous answers with free texts, so that the owner may decide on them;
        # released, so that the owner may say what became of the topics.
        answers = [
            FeedbackResponse(
                session=session,
                round_on=session.starts_at.date(),
                topics="Thema",
                texts_state=TextsState.RELEASED,
            )
            for _ in range(5)
        ]
        db.session.add_all(answers)
        make_format(other, title="Format B")
        users = {
            "partner": make_user(Role.PARTNER, partner, email="p@example.org"),
            "other_organiser": make_user(Role.ORGANISER, other, email="b@example.org"),
            "organiser": make_user(Role.ORGANISER, own, email="a@example.org"),
            "admin": make_user(Role.ADMIN, email="admin@example.org"),
        }
        db.session.commit()
        return {
            "format_id": format.id,
            "session_id": session.id,
            "draft_id": draft.id,
            "registration_id": registration.id,
            "contingent_id": contingent.id,
            "response_id": answers[0].id,
            "organisation_id": own.id,
            "user_id": users["organiser"].id,
            "month": session.local_start.strftime("%Y-%m"),
            "emails": {role: user.email for role, user in users.items()},
        }


def _text(response) -> str:
    """What a response says: a PDF's text (its pages are compressed), else the body."""
    if response.mimetype == "application/pdf":
        pages = PdfReader(io.BytesIO(response.get_data())).pages
        return " ".join(page.extract_text() for page in pages)
    return response.get_data(as_text=True)


def _url(endpoint: str, rule: str, world: dict) -> str:
    url = rule
    for name in ("format_id", "registration_id", "contingent_id", "organisation_id", "user_id"):
        url = url.replace(f"<int:{name}>", str(world[name]))
    session_id = world["draft_id"] if endpoint == "organiser.session_skip" else world["session_id"]
    url = url.replace("<int:session_id>", str(session_id))
    url = url.replace("<response_id>", world["response_id"])
    url = re.sub(r"<any\(([a-z_]+)[^>]*>", r"\1", url)  # the first of the choices
    if endpoint == "organiser.calendar":
        url += f"?month={world['month']}"
    assert "<" not in url, url
    return url


def _snapshot(app) -> tuple:
    """Everything a denied request must leave as it was."""
    with app.app_context():
        counts = tuple(
            db.session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (
                Organisation,
                User,
                Format,
                Session,
                Registration,
                Contingent,
                OutboxMessage,
            )
        )
        states = tuple(
            db.session.execute(
                select(
                    Session.id,
                    Session.status,
                    Session.sequence,
                    Session.starts_at,
                    Session.capacity,
                ).order_by(Session.id)
            ).all()
        )
        people = tuple(
            db.session.execute(
                select(
                    Registration.id,
                    Registration.status,
                    Registration.attended,
                    Registration.waitlist_priority,
                ).order_by(Registration.id)
            ).all()
        )
        accounts = tuple(
            db.session.execute(
                select(User.id, User.active, User.auth_nonce).order_by(User.id)
            ).all()
        )
        return counts, states, people, accounts


def _request(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    token = csrf_token(client, "/auth/account" if _signed_in(client) else "/auth/login")
    return client.post(url, data={"csrf_token": token})


def _signed_in(client) -> bool:
    return client.get("/auth/account").status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"), ROUTES, ids=[f"{m} {r}" for _, r, m in ROUTES]
)
def test_back_office_route_access(tmp_path, endpoint, rule, method):
    app = make_app(tmp_path)
    with app.app_context():
        db.create_all()
    world = _world(app)
    url = _url(endpoint, rule, world)
    admin_only = endpoint.startswith("admin.")
    has_id = any(
        f"<int:{n}" in rule
        for n in (
            "format_id",
            "session_id",
            "registration_id",
            "contingent_id",
            "organisation_id",
            "user_id",
        )
    )
    before = _snapshot(app)

    anonymous = app.test_client()
    response = _request(anonymous, method, url)
    assert response.status_code == 302, (url, response.status_code)
    assert response.headers["Location"].startswith("/auth/login")
    assert _snapshot(app) == before

    for role in ("partner", "other_organiser", "organiser", "admin"):
        if role == "admin" and method == "POST":
            # The organiser's request may have changed or deleted the record: a fresh world.
            _dispose(app)
            app = make_app(tmp_path / "admin")
            with app.app_context():
                db.create_all()
            world = _world(app)
            url = _url(endpoint, rule, world)
        client = app.test_client()
        assert login(client, world["emails"][role]).status_code == 303
        response = _request(client, method, url)
        body = _text(response)
        if role == "partner" or (admin_only and role != "admin"):
            assert response.status_code == 403, (role, url, response.status_code)
            assert _snapshot(app) == before
        elif role == "other_organiser":
            if has_id:
                assert response.status_code == 404, (role, url, response.status_code)
                assert _snapshot(app) == before
            else:
                assert response.status_code in (200, 303, 400, 409, 422), (role, url)
            assert SECRET_TITLE not in body and SECRET_NAME not in body, (role, url)
        else:
            assert response.status_code not in (401, 403, 404), (role, url, response.status_code)
            assert response.status_code < 500, (role, url, response.status_code)
            assert not (
                response.status_code == 302
                and response.headers["Location"].startswith("/auth/login")
            )
        if (
            method == "GET"
            and response.status_code == 200
            and endpoint
            in ("organiser.dashboard", "organiser.calendar", "organiser.session_detail")
            and role in ("organiser", "admin")
        ):
            assert SECRET_TITLE in body  # the owner does see it: the check above has teeth
    _dispose(app)


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
