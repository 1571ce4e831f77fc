"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from eventsapp.database import db
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
