"""Rate limits: the 11th registration a minute from one address gets a readable 429; with
Redis storage the count is shared by every process."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from eventsapp.database import db
from tests.conftest import csrf_token, make_app
from tests.factories import make_session

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
