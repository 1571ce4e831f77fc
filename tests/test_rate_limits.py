"""Rate limits: the 11th registration a minute from one address gets a readable 429; with
Redis storage the count is shared by every process. Subscribing, asking for one's data and
signing in are limited the same way, per client and per email address."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from eventsapp.database import db
from eventsapp.models import OutboxMessage, Subscription
from tests.conftest import csrf_token, make_app
from tests.factories import PASSWORD, make_session, make_user

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parent.parent


def _register(client, session_id: int, n: int, token: str):
    return client.post(
        f"/sessions/{session_id}/register",
        data={
            "name": f"Person {n}",
            "email": f"person{n}@example.org",
            "language": "de",
            "consent": "y",
            "csrf_token": token,
        },
    )


def test_the_eleventh_registration_a_minute_gets_a_readable_429(app, client):
    with app.app_context():
        session_id = make_session(capacity=50).id
        db.session.commit()
    token = csrf_token(client, f"/sessions/{session_id}")
    codes = [_register(client, session_id, n, token).status_code for n in range(11)]
    assert codes == [303] * 10 + [429]
    response = _register(client, session_id, 99, token)
    assert response.status_code == 429
    assert "Zu viele Versuche" in response.get_data(as_text=True)
    assert response.headers.get("Retry-After")
    page = client.get("/?lang=tr")
    assert page.status_code == 200  # reading pages is not limited


def test_one_address_cannot_be_registered_over_and_over(tmp_path):
    app = make_app(
        tmp_path, REGISTER_RATE_LIMIT="1000 per minute", REGISTER_RATE_LIMIT_PER_EMAIL="3 per hour"
    )
    with app.app_context():
        db.create_all()
        ids = [make_session(capacity=5).id for _ in range(5)]
        db.session.commit()
    client = app.test_client()
    token = csrf_token(client, f"/sessions/{ids[0]}")
    codes = [
        client.post(
            f"/sessions/{i}/register",
            data={
                "name": "Same",
                "email": "same@example.org",
                "language": "de",
                "consent": "y",
                "csrf_token": token,
            },
        ).status_code
        for i in ids
    ]
    assert codes == [303, 303, 303, 429, 429]


@pytest.fixture
def redis_storage():
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is part of this machine's services (127.0.0.1:6379)")
    prefix = f"eventsapp-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)


SCRIPT = """
import sys
from eventsapp import create_app
from eventsapp.database import db
from tests.factories import make_session
app = create_app("TestConfig", SQLALCHEMY_DATABASE_URI=sys.argv[1],
                 RATELIMIT_STORAGE_URI=sys.argv[2], RATELIMIT_KEY_PREFIX=sys.argv[3],
                 INSTANCE_PATH=sys.argv[4])
client = app.test_client()
import re
page = client.get("/sessions/1").get_data(as_text=True)
token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
codes = []
for n in range(int(sys.argv[5])):
    codes.append(client.post("/sessions/1/register", data={
        "name": f"P {sys.argv[6]}{n}", "email": f"p{sys.argv[6]}{n}@example.org",
        "language": "de", "consent": "y", "csrf_token": token}).status_code)
print(",".join(map(str, codes)))
"""


def test_with_redis_the_limit_is_shared_across_processes(tmp_path, redis_storage):
    database = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    app = make_app(tmp_path, database)
    with app.app_context():
        db.create_all()
        make_session(capacity=50)
        db.session.commit()

    def run(count: int, tag: str) -> list[int]:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                SCRIPT,
                database,
                REDIS_URL,
                redis_storage,
                str(tmp_path / f"instance-{tag}"),
                str(count),
                tag,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return [int(c) for c in out.stdout.strip().splitlines()[-1].split(",")]

    first = run(6, "a")  # one process: 6 registrations
    second = run(6, "b")  # another process, same client address, same minute
    assert first == [303] * 6
    assert second == [303] * 4 + [429] * 2  # 10 a minute, counted across both


def _outbox_and_subscriptions(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(db.select(db.func.count(OutboxMessage.id))),
            db.session.scalar(db.select(db.func.count(Subscription.id))),
        )


@pytest.mark.parametrize("form", ["SUBSCRIBE", "DATA_REQUEST"])
def test_the_mail_forms_refuse_a_flood_from_one_client_and_send_nothing_for_it(tmp_path, form):
    app = make_app(tmp_path, **{f"{form}_RATE_LIMIT": "3 per minute"})
    with app.app_context():
        db.create_all()
        slug = make_session(capacity=5).format.slug
        db.session.commit()
    page, action = {
        "SUBSCRIBE": (f"/formats/{slug}", f"/formats/{slug}/subscribe"),
        "DATA_REQUEST": ("/privacy", "/privacy/my-data"),
    }[form]
    client = app.test_client()
    token = csrf_token(client, page)

    def send(n: int):
        data = {"email": f"flood{n}@example.org", "language": "de", "csrf_token": token}
        return client.post(action, data=data)

    assert [send(n).status_code for n in range(3)] == [303] * 3
    written = _outbox_and_subscriptions(app)
    assert written[0] == 3  # each allowed request queued its mail

    refused = send(3)
    assert refused.status_code == 429
    assert "Zu viele Versuche" in refused.get_data(as_text=True)
    assert refused.headers.get("Retry-After")
    assert _outbox_and_subscriptions(app) == written


def test_sign_in_attempts_for_one_address_are_limited_even_with_the_right_password(tmp_path):
    app = make_app(
        tmp_path, LOGIN_RATE_LIMIT="1000 per minute", LOGIN_RATE_LIMIT_PER_EMAIL="3 per hour"
    )
    with app.app_context():
        db.create_all()
        make_user(email="organiser@example.org")
        db.session.commit()
    client = app.test_client()
    token = csrf_token(client, "/auth/login")

    def sign_in(password: str):
        data = {"email": "organiser@example.org", "password": password, "csrf_token": token}
        return client.post("/auth/login", data=data)

    assert [sign_in("wrong guess").status_code for _ in range(3)] == [422] * 3
    refused = sign_in(PASSWORD)
    assert refused.status_code == 429
    assert "Zu viele Versuche" in refused.get_data(as_text=True)
    assert client.get("/organiser/").status_code in (302, 303)  # still signed out
