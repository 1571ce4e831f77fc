"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from eventsapp.database import db
from tests.conftest import make_app, postgres_app


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
    assert _upgrade_and_compare(make_app(tmp_path)) == []


def test_migrations_match_models_on_postgresql(tmp_path, postgres_schema):
    assert _upgrade_and_compare(postgres_app(tmp_path, postgres_schema)) == []
