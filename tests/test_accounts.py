"""Accounts: signing in and out, throttling, password changes and invitations."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.models import OutboxMessage, Role, User
from eventsapp.services import accounts
from tests.conftest import csrf_token, login, make_app
from tests.factories import PASSWORD, make_organisation, make_user


@pytest.fixture
def organiser_email(app) -> str:
    with app.app_context():
        user = make_user(Role.ORGANISER, email="kim@polizei.example")
        db.session.commit()
        return user.email


def test_login_and_logout(client, organiser_email):
    response = login(client, organiser_email)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/organiser/")
    assert client.get("/organiser/").status_code == 200
    response = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})
    assert response.status_code == 303
    assert client.get("/organiser/").status_code == 302


def test_wrong_password_is_refused_with_the_same_message_as_an_unknown_email(
    client, organiser_email
):
    for email, password in ((organiser_email, "wrong password!"), ("nobody@example.org", PASSWORD)):
        response = login(client, email, password)
        assert response.status_code == 422
        assert "E-Mail-Adresse oder Passwort stimmen nicht." in response.get_data(as_text=True)
    assert client.get("/organiser/").status_code == 302


def test_session_cookie_flags(tmp_path):
    app = make_app(tmp_path, SESSION_COOKIE_SECURE=True)
    with app.app_context():
        db.create_all()
        make_user(Role.ORGANISER, email="kim@polizei.example")
        db.session.commit()
    client = app.test_client()
    response = login(client, "kim@polizei.example")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_ends_the_old_cookie_too(app, organiser_email):
    client = app.test_client()
    login(client, organiser_email)
    stolen = client.get_cookie("session").value
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/organiser/").status_code == 302


def test_password_change_ends_other_sessions_and_needs_the_old_password(app, organiser_email):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, organiser_email)
    login(phone, organiser_email)
    token = csrf_token(laptop, "/auth/account")
    wrong = laptop.post(
        "/auth/account",
        data={
            "current": "not it at all",
            "password": "a new long passphrase",
            "confirm": "a new long passphrase",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 422
    assert "Das bisherige Passwort stimmt nicht." in wrong.get_data(as_text=True)
    short = laptop.post(
        "/auth/account",
        data={"current": PASSWORD, "password": "short", "confirm": "short", "csrf_token": token},
    )
    assert "mindestens 12 Zeichen" in short.get_data(as_text=True)
    done = laptop.post(
        "/auth/account",
        data={
            "current": PASSWORD,
            "password": "a new long passphrase",
            "confirm": "a new long passphrase",
            "csrf_token": token,
        },
    )
    assert done.status_code == 303
    assert phone.get("/organiser/").status_code == 302
    assert login(phone, organiser_email).status_code == 422
    assert login(phone, organiser_email, "a new long passphrase").status_code == 303


@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/organiser/calendar", "/organiser/calendar"),
        ("https://evil.example/", "/organiser/"),
        ("//evil.example/", "/organiser/"),
        ("/\\evil.example", "/organiser/"),
        ("javascript:alert(1)", "/organiser/"),
    ],
)
def test_next_only_leads_to_this_site(client, organiser_email, target, lands_on):
    response = login(client, organiser_email, next_url=target)
    assert response.status_code == 303
    assert response.headers["Location"] == lands_on


def test_login_is_throttled(client, organiser_email):
    codes = [login(client, organiser_email, "wrong password!").status_code for _ in range(11)]
    assert codes[:10] == [422] * 10
    assert codes[10] == 429
    assert login(client, organiser_email).status_code == 429  # even the right password, for now


def test_inactive_accounts_cannot_sign_in(app, client, organiser_email):
    with app.app_context():
        db.session.execute(select(User)).scalar_one().active = False
        db.session.commit()
    assert login(client, organiser_email).status_code == 422


def test_invitation_link_sets_the_password_once_and_expires(app):
    with app.app_context():
        partner = make_organisation(kind="partner", slug="vmdo")
        admin = make_user(Role.ADMIN, email="admin@polizei.example")
        db.session.commit()
        partner_id, admin_email = partner.id, admin.email
    client = app.test_client()
    login(client, admin_email)
    response = client.post(
        "/admin/users",
        data={
            "name": "Deniz",
            "email": "deniz@vmdo.example",
            "role": "partner",
            "organisation": partner_id,
            "language": "de",
            "csrf_token": csrf_token(client, "/admin/users"),
        },
    )
    assert response.status_code == 303
    with app.app_context():
        mail = db.session.execute(select(OutboxMessage)).scalar_one()
        assert mail.recipient == "deniz@vmdo.example"
        link = re.search(r"http://eventsapp.test(/auth/set-password/\S+)", mail.body_text).group(1)

    invited = app.test_client()
    page = invited.get(link)
    assert page.status_code == 200
    token = csrf_token(invited, link)
    mismatch = invited.post(
        link,
        data={
            "password": "a long passphrase here",
            "confirm": "another passphrase",
            "csrf_token": token,
        },
    )
    assert "stimmen nicht überein" in mismatch.get_data(as_text=True)
    done = invited.post(
        link,
        data={
            "password": "a long passphrase here",
            "confirm": "a long passphrase here",
            "csrf_token": token,
        },
    )
    assert done.status_code == 303
    assert invited.get(link).status_code == 404  # used up
    assert login(invited, "deniz@vmdo.example", "a long passphrase here").status_code == 303

    with app.app_context():
        user = accounts.find_user_by_email("deniz@vmdo.example")
        old = accounts.password_link_token(user, now=utcnow())
        db.session.commit()
        assert accounts.user_from_password_token(old, now=utcnow()) == user
        assert accounts.user_from_password_token(old, now=utcnow() + timedelta(hours=73)) is None
        # The token is 32 random bytes: it names neither the account nor its address.
        assert len(base64.urlsafe_b64decode(old + "=" * (-len(old) % 4))) == 32


def test_invitation_mail_is_delivered(app):
    with app.app_context():
        user = make_user(Role.ORGANISER, password=None)
        accounts.invite_user(user, now=utcnow())
        db.session.commit()
        assert deliver_due(now=utcnow()).sent == 1


def test_users_create_cli(app, runner):
    with app.app_context():
        make_organisation(slug="polizei-dortmund")
        db.session.commit()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Kim@Polizei.example",
            "--role",
            "organiser",
            "--organisation",
            "polizei-dortmund",
        ]
    )
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[1]
    assert login(app.test_client(), "kim@polizei.example", password).status_code == 303
    again = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "kim@polizei.example",
            "--role",
            "organiser",
            "--organisation",
            "polizei-dortmund",
        ]
    )
    assert again.exit_code != 0 and "schon ein Konto" in again.output
    unknown = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@example.org",
            "--role",
            "partner",
            "--organisation",
            "nope",
        ]
    )
    assert unknown.exit_code != 0 and "no organisation" in unknown.output
