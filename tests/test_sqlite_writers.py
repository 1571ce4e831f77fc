"""SQLite writers wait for each other on a lock file (eventsapp.database.WriterQueue).

The lock must be held exactly while a write transaction is open (whatever ends it) and never
by a reading transaction, and a closed connection must let go of it and of its file.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

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


def _lock_file(app) -> Path:
    with app.app_context():
        return Path(db.engine.url.database + "-writer")


def _free(lock_file: Path) -> bool:
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def _open_lock_files(lock_file: Path) -> int:
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == str(lock_file.resolve()))


def test_the_lock_is_held_while_a_write_transaction_is_open(sqlite_app):
    lock_file = _lock_file(sqlite_app)
    with sqlite_app.app_context():
        db.session.execute(text("SELECT 1"))  # outside a request: a write transaction
        assert not _free(lock_file)
        db.session.commit()
        assert _free(lock_file)

        db.session.execute(text("SELECT 1"))
        assert not _free(lock_file)
        db.session.rollback()
        assert _free(lock_file)

        with reading():
            db.session.execute(text("SELECT 1"))
            assert _free(lock_file)  # readers never queue
        db.session.rollback()


def test_a_failed_write_lets_go_of_the_lock(sqlite_app):
    lock_file = _lock_file(sqlite_app)
    with sqlite_app.app_context():
        db.session.add(Organisation(slug="vmdo", name="VMDO", kind=PARTNER))
        db.session.commit()
        db.session.add(Organisation(slug="vmdo", name="VMDO again", kind=PARTNER))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert _free(lock_file)
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


def test_closed_connections_close_their_lock_file(sqlite_app):
    lock_file = _lock_file(sqlite_app)
    with sqlite_app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.commit()
        assert _open_lock_files(lock_file) >= 1
        db.session.remove()
        db.engine.dispose()
        assert _open_lock_files(lock_file) == 0
