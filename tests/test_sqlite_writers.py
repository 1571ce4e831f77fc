"""SQLite writers take the write lock when their transaction begins (BEGIN IMMEDIATE).

The lock must be held exactly while a write transaction is open (whatever ends it) and never
by a reading transaction; a second writer waits for it (busy timeout) instead of failing.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from eventsapp.database import db, reading
from eventsapp.models import Organisation, OrganisationKind
from tests.conftest import _create_tables, _dispose, make_app, sqlite_url

PARTNER = OrganisationKind.PARTNER


@pytest.fixture
def sqlite_app(tmp_path):
    """Always SQLite, whatever engine the run tests: this is SQLite's own mechanism."""
    app = _create_tables(make_app(tmp_path, sqlite_url(tmp_path)))
    yield app
    _dispose(app)


def _free(app) -> bool:
    """Whether another connection could start writing now (without waiting)."""
    with app.app_context():
        path = db.engine.url.database
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


def test_the_lock_is_held_while_a_write_transaction_is_open(sqlite_app):
    with sqlite_app.app_context():
        db.session.execute(text("SELECT 1"))  # outside a request: a write transaction
        assert not _free(sqlite_app)
        db.session.commit()
        assert _free(sqlite_app)

        db.session.execute(text("SELECT 1"))
        assert not _free(sqlite_app)
        db.session.rollback()
        assert _free(sqlite_app)

        with reading():
            db.session.execute(text("SELECT 1"))
            assert _free(sqlite_app)  # readers take no write lock
        db.session.rollback()


def test_a_failed_write_lets_go_of_the_lock(sqlite_app):
    with sqlite_app.app_context():
        db.session.add(Organisation(slug="vmdo", name="VMDO", kind=PARTNER))
        db.session.commit()
        db.session.add(Organisation(slug="vmdo", name="VMDO again", kind=PARTNER))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert _free(sqlite_app)
        names = db.session.execute(select(Organisation.name)).scalars().all()
        assert names == ["VMDO"]
        db.session.rollback()


def test_a_second_writer_waits_and_then_writes(sqlite_app):
    order: list[str] = []
    holding = threading.Event()

    def first() -> None:
        with sqlite_app.app_context():
            db.session.add(Organisation(slug="first", name="First", kind=PARTNER))
            db.session.flush()
            holding.set()
            threading.Event().wait(0.3)
            order.append("first commits")
            db.session.commit()

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    with sqlite_app.app_context():
        db.session.add(Organisation(slug="second", name="Second", kind=PARTNER))
        db.session.commit()
        order.append("second committed")
    thread.join(5)
    assert order == ["first commits", "second committed"]
