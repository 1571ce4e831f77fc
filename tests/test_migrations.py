"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from eventsapp.database import db
from eventsapp.models import Session
from tests.conftest import make_app, postgres_app, sqlite_url


def _upgrade_and_compare(app) -> list:
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
        db.engine.dispose()
    assert {
        "organisations",
        "formats",
        "sessions",
        "registrations",
        "outbox_messages",
        "users",
        "alembic_version",
    } <= tables
    return diff


def test_migrations_match_models_on_sqlite(tmp_path):
    assert _upgrade_and_compare(make_app(tmp_path, sqlite_url(tmp_path))) == []


def test_migrations_match_models_on_postgresql(tmp_path, postgres_schema):
    assert _upgrade_and_compare(postgres_app(tmp_path, postgres_schema)) == []


def test_upgrading_a_database_with_data_keeps_it_and_gives_each_account_a_nonce(tmp_path):
    app = make_app(tmp_path, sqlite_url(tmp_path))  # the SQL below is SQLite's
    with app.app_context():
        upgrade(revision="39aba089e97f")  # the first schema
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO organisations (slug, name, kind, description, created_at) "
                "VALUES ('p', 'Polizei', 'host', '', '2026-11-01 10:00:00')"
            )
            for n in (1, 2):
                connection.exec_driver_sql(
                    "INSERT INTO users (email, name, role, organisation_id, language, active,"
                    f" created_at) VALUES ('u{n}@example.org', 'U', 'organiser', 1, 'de', 1,"
                    " '2026-11-01 10:00:00')"
                )
        upgrade()
        with db.engine.connect() as connection:
            nonces = [
                row[0]
                for row in connection.exec_driver_sql("SELECT auth_nonce FROM users ORDER BY id")
            ]
        db.engine.dispose()
    assert len(nonces) == 2 and all(len(n) >= 24 for n in nonces) and nonces[0] != nonces[1]


def test_upgrading_keeps_the_calendar_uid_of_every_existing_session(tmp_path):
    """Migration e2a7c0de0008 stores, for sessions that exist, the host their UIDs were
    made with (the base URL's), so calendars holding them see no new UID."""
    app = make_app(
        tmp_path, sqlite_url(tmp_path), EVENTSAPP_BASE_URL="https://termine.polizei.example/x"
    )
    stamp = "'2026-11-01 10:00:00'"
    with app.app_context():
        upgrade(revision="e2a7c0de0007")
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO organisations (slug, name, kind, description, created_at) "
                f"VALUES ('p', 'Polizei', 'host', '', {stamp})"
            )
            connection.exec_driver_sql(
                "INSERT INTO formats (slug, title, summary, description, host_organisation_id,"
                " duration_minutes, capacity, timezone, visibility, approval_required,"
                " reminder_offsets, created_at, updated_at) VALUES ('blick', 'Blick', '', '',"
                f" 1, 120, 10, 'Europe/Berlin', 'public', 0, '', {stamp}, {stamp})"
            )
            for _ in range(2):
                connection.exec_driver_sql(
                    "INSERT INTO sessions (format_id, starts_at, ends_at, timezone, venue_name,"
                    " venue_address, host_organisation_id, capacity, languages, interpreting,"
                    " note, status, sequence, cancel_reason, created_at, updated_at) VALUES"
                    " (1, '2027-01-12 17:00:00', '2027-01-12 19:00:00', 'Europe/Berlin', 'P',"
                    f" '', 1, 10, 'de', '', '', 'published', 0, '', {stamp}, {stamp})"
                )
        upgrade()
        uids = [s.uid for s in db.session.query(Session).order_by(Session.id)]
        db.session.remove()
        db.engine.dispose()
    assert uids == ["session-1@termine.polizei.example", "session-2@termine.polizei.example"]
