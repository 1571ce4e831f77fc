"""A database connection the server has closed (PostgreSQL restarted, an idle connection
ended by an administrator or a timeout) is replaced before a request uses it: the next
visitor gets their page and their registration, not an error."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, func, select, text

from eventsapp.database import db
from eventsapp.models import Registration
from tests.conftest import POSTGRES_URL, csrf_token, make_app
from tests.factories import make_session

APPLICATION = "eventsapp-restart-test"


def _end_the_apps_connections() -> int:
    """What a server restart does to the app's idle pooled connections; how many it ended."""
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            ended = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": APPLICATION},
            ).scalar_one()
            deadline = time.monotonic() + 10
            while connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": APPLICATION},
            ).scalar_one():
                assert time.monotonic() < deadline, "the backends did not end"
                time.sleep(0.05)
                connection.rollback()  # a fresh snapshot of pg_stat_activity
    finally:
        engine.dispose()
    return ended


def test_pages_and_registrations_go_on_after_the_server_closed_the_pooled_connections(
    tmp_path, postgres_schema
):
    app = make_app(
        tmp_path,
        POSTGRES_URL,
        {
            "connect_args": {
                "options": f"-csearch_path={postgres_schema}",
                "application_name": APPLICATION,
            }
        },
    )
    with app.app_context():
        db.create_all()
        session_id = make_session(capacity=5).id
        db.session.commit()
    client = app.test_client()
    url = f"/sessions/{session_id}"
    token = csrf_token(client, url)  # the pool now holds an idle connection
    assert _end_the_apps_connections() >= 1

    health = client.get("/healthz")  # reads the database, never from a cache
    assert health.status_code == 200
    assert health.json["database"] == "ok"
    assert _end_the_apps_connections() >= 1
    answer = client.post(
        f"{url}/register",
        data={
            "csrf_token": token,
            "name": "Ayşe Demir",
            "email": "ayse@example.org",
            "language": "de",
            "consent": "y",
        },
    )
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(Registration.id))) == 1
