"""A reference point for the registration POST on PostgreSQL: its transaction and nothing else.

A bare Flask app that reads the posted name and email and runs what a registration runs in
the database: lock the session and read its terms, read the seat ledger, write the
registration and its mail, commit. It uses eventsapp's own prepared statements, compiled for
PostgreSQL, on a psycopg connection of its own, with no form, CSRF check, cookie session,
ORM session or connection pool. The seat rules are reduced to "a seat while any is left".

Two routes, served by gunicorn like eventsapp in `benchmarks/load.py`:
- `/plain/<session_id>`: one round trip per statement, as eventsapp sends them;
- `/pipelined/<session_id>`: psycopg's pipeline mode, BEGIN, lock and ledger in one round
  trip, registration and mail in one statement (a data-modifying CTE) sent with COMMIT.

What these reach is about as far as any implementation of the transaction gets on the
machine; the gap to eventsapp's row is what Flask-WTF, Flask-Login, SQLAlchemy and the rest
of the request cost. Set `BARE_DSN` to a libpq connection string or URI.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

import psycopg
from flask import Flask, redirect, request
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql

from eventsapp.mail.outbox import _INSERT_MESSAGE
from eventsapp.services.seats import _INSERT_REGISTRATION, _SEATS, _TERMS

_DIALECT = postgresql.psycopg.dialect()
_REGISTRATION_KEYS = [
    "session_id",
    "name",
    "email",
    "organisation_name",
    "language",
    "status",
    "waitlist_priority",
    "contingent_id",
    "user_id",
    "created_at",
    "updated_at",
    "consented_at",
    "token_nonce",
    "token_hash",
]
_MESSAGE_KEYS = [
    "recipient",
    "language",
    "subject",
    "body_text",
    "ics_method",
    "deferred_template",
    "registration_id",
    "extra_headers",
    "dedupe_key",
    "message_id",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
]


class _Statement:
    """A statement compiled once, with the values it binds itself (such as `status_1`)."""

    def __init__(self, statement, keys=None) -> None:
        compiled = statement.compile(dialect=_DIALECT, column_keys=keys)
        self.sql = str(compiled)
        self.defaults = {
            key: str(value) for key, value in compiled.params.items() if isinstance(value, str)
        }

    def __call__(self, cursor: psycopg.Cursor, values: dict) -> psycopg.Cursor:
        return cursor.execute(self.sql, self.defaults | values)


TERMS = _Statement(_TERMS)
SEATS = _Statement(_SEATS)
INSERT_REGISTRATION = _Statement(
    _INSERT_REGISTRATION.returning(_INSERT_REGISTRATION.table.c.id), _REGISTRATION_KEYS
)
INSERT_MESSAGE = _Statement(_INSERT_MESSAGE, _MESSAGE_KEYS)


def _registration_and_message() -> _Statement:
    """Both rows in one statement: the mail takes the new registration's id from the CTE."""
    registration = (
        _INSERT_REGISTRATION.values({key: bindparam(key) for key in _REGISTRATION_KEYS})
        .returning(_INSERT_REGISTRATION.table.c.id)
        .cte("registration")
    )
    outbox = _INSERT_MESSAGE.table.c
    columns = [outbox[key] for key in _MESSAGE_KEYS]
    values = [
        registration.c.id
        if key == "registration_id"
        else func.concat("registration:", registration.c.id, ":received")
        if key == "dedupe_key"
        else bindparam(f"mail_{key}", type_=outbox[key].type)
        for key in _MESSAGE_KEYS
    ]
    statement = _INSERT_MESSAGE.table.insert().from_select(
        columns, select(*values).select_from(registration)
    )
    return _Statement(statement.add_cte(registration))


REGISTRATION_AND_MESSAGE = _registration_and_message()

app = Flask(__name__)
_connection: psycopg.Connection | None = None


def _connect() -> psycopg.Connection:
    global _connection  # one per gunicorn worker, opened after the fork
    if _connection is None:
        _connection = psycopg.connect(os.environ["BARE_DSN"])
    return _connection


def _rows(session_id: int, email: str, seats_left: bool) -> tuple[dict, dict]:
    """The registration's values and its mail's (without the registration id)."""
    now = datetime.now(UTC)
    nonce = secrets.token_urlsafe(16)
    registration = {
        "session_id": session_id,
        "name": request.form["name"],
        "email": email,
        "organisation_name": "",
        "language": "de",
        "status": "confirmed" if seats_left else "waitlisted",
        "waitlist_priority": 0,
        "contingent_id": None,
        "user_id": None,
        "created_at": now,
        "updated_at": now,
        "consented_at": now,
        "token_nonce": nonce,
        "token_hash": secrets.token_hex(32),
    }
    message = {
        "recipient": email,
        "language": "de",
        "subject": "",
        "body_text": "",
        "ics_method": "REQUEST" if seats_left else None,
        "deferred_template": "registration_confirmed" if seats_left else "registration_waitlisted",
        "extra_headers": "",
        "message_id": f"<{nonce}@bare.invalid>",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }
    return registration, message


def _seats_left(capacity: int, ledger: list[tuple]) -> bool:
    """`capacity` is column 2 of the terms (id, status, capacity, …)."""
    return sum(row[2] for row in ledger if row[0] == "held") < capacity


@app.get("/")
def ready() -> str:
    return "ready"


@app.post("/plain/<int:session_id>")
def plain(session_id: int):
    connection = _connect()
    email = request.form["email"].strip().lower()
    with connection.cursor() as cursor:
        terms = TERMS(cursor, {"session_id": session_id}).fetchone()
        ledger = SEATS(cursor, {"session_id": session_id, "email": email}).fetchall()
        registration, message = _rows(session_id, email, _seats_left(terms[2], ledger))
        registration_id = INSERT_REGISTRATION(cursor, registration).fetchone()[0]
        message.update(
            registration_id=registration_id, dedupe_key=f"registration:{registration_id}:received"
        )
        INSERT_MESSAGE(cursor, message)
    connection.commit()
    return redirect(f"/registrations/{registration['token_nonce']}", 303)


@app.post("/pipelined/<int:session_id>")
def pipelined(session_id: int):
    connection = _connect()
    email = request.form["email"].strip().lower()
    with connection.cursor() as lock, connection.cursor() as seats:
        with connection.pipeline():
            TERMS(lock, {"session_id": session_id})
            SEATS(seats, {"session_id": session_id, "email": email})
        terms, ledger = lock.fetchone(), seats.fetchall()
    registration, message = _rows(session_id, email, _seats_left(terms[2], ledger))
    values = registration | {f"mail_{key}": value for key, value in message.items()}
    with connection.pipeline(), connection.cursor() as cursor:
        REGISTRATION_AND_MESSAGE(cursor, values)
        connection.commit()
    return redirect(f"/registrations/{registration['token_nonce']}", 303)
