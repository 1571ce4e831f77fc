"""Logs never carry a name, a mail address, a token or a secret link, traceback included.

The audit's case: a database connection cut in the middle of a registration. The traceback
then names the statement that failed, and SQLAlchemy would print its parameters (name,
address, token nonce) and PostgreSQL its "Failing row contains (…)" with it. Both are
checked here in text and JSON mode on SQLite and PostgreSQL, with and without the engine's
`hide_parameters` (without it, the redaction alone has to hold). conftest.py's
`no_personal_data_in_logs` watches every other record of the session.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.logging import default_handler
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text

from eventsapp.database import db, utcnow
from eventsapp.extensions import csrf
from eventsapp.logs import (
    JSON_HANDLER_NAME,
    JSONFormatter,
    RedactingFilter,
    leaks,
    redact,
)
from eventsapp.models import Registration, RegistrationStatus
from eventsapp.tokens import REGISTRATION, derive_token, hash_token
from tests.conftest import POSTGRES_URL, csrf_token, make_app, sqlite_url
from tests.factories import make_format, make_session

NAME = "Zeynep Kılıçarslan"
ADDRESS = "Zeynep.Kilicarslan@Örnek-Verein.de"


def test_secret_paths_and_addresses_are_masked():
    line = (
        'GET /registrations/AbC_12-x HTTP/1.1 "/feeds/zzz.ics" mail to ayse@example.org '
        "/subscriptions/tok/confirm /my-data/abc.json /auth/set-password/t.o.k "
        "/auth/reset/r3s3t /access/acc3ss /my-calendar/c4l"
    )
    masked = redact(line)
    for secret in (
        "AbC_12-x",
        "zzz.ics",
        "ayse@example.org",
        "tok/",
        "abc.json",
        "t.o.k",
        "r3s3t",
        "acc3ss",
        "c4l",
    ):
        assert secret not in masked
    assert "/registrations/<secret>" in masked and "<email>" in masked
    assert "/subscriptions/<secret>/confirm" in masked
    assert "/accessibility" in redact("/accessibility")


def test_records_are_masked_and_written_as_json():
    record = logging.LogRecord(
        "eventsapp",
        logging.WARNING,
        __file__,
        1,
        "mail %s to %s failed",
        ("/registrations/Xyz123", "a@b.de"),
        None,
    )
    assert RedactingFilter().filter(record)
    line = JSONFormatter().format(record)
    assert '"level": "warning"' in line and "Xyz123" not in line and "a@b.de" not in line


@pytest.mark.parametrize(
    "address",
    [
        "partner3@ｖｍｄｏ.example",
        "ayşe@örnek.de",
        "ayşe＠örnek．de",
        "info@xn--rnek-zoa.de",
        "ayse%40example.org",
        "o.brien+events@polizei.nrw。de",
    ],
)
def test_a_line_with_a_unicode_address_and_a_token_is_redacted(app, caplog, address):
    token = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(24)
    digest = hash_token(token)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # added by someone else, knowing nothing
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("somebody.else")
    logger.addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            logger.info(
                "sent %s to %s, nonce=%s hash %s, see /feeds/%s.ics",
                token,
                address,
                nonce,
                digest,
                token,
            )
    finally:
        logger.removeHandler(handler)
    for written in (stream.getvalue(), caplog.text):
        assert "<email>" in written and "<token>" in written and "/feeds/<secret>" in written
        for secret in (address, token, nonce, digest):
            assert secret not in written
        assert leaks(written) == []


def test_long_identifiers_in_tracebacks_stay_readable():
    line = (
        'File "site-packages/sqlalchemy/engine/base.py", line 1967, in _exec_single_context\n'
        "sqlalchemy.exc.PendingRollbackError: SQLALCHEMY_ENGINE_OPTIONS, "
        "uq_registrations_session_id_email_active"
    )
    assert redact(line) == line


def test_a_traceback_is_redacted_for_every_handler(app):
    """The record carries its traceback as redacted text, not as the live exception."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("somebody.else")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"no seat for {ADDRESS} with /registrations/{'x' * 43}")
        except ValueError:
            logger.exception("failed for %s", ADDRESS)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "Traceback" in written and "ValueError: no seat for <email>" in written
    assert ADDRESS not in written and "x" * 43 not in written


# --- a registration whose connection is cut, logged by the app's error handler -----------


@dataclass
class Cut:
    """What the statement that was cut carried: none of it may be logged."""

    values: list[str] = field(default_factory=list)


def _cut_registration_inserts(app: Flask) -> Cut:
    """Cut the database connection the moment a registration is inserted.

    On PostgreSQL the server ends the backend (pg_terminate_backend), on SQLite the
    connection is closed under the statement: the driver fails as on a real outage and
    SQLAlchemy reports the statement with its parameters, as the audit saw it.
    """
    cut = Cut()
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "do_execute")
    def cut_connection(cursor, statement, parameters, context) -> bool:
        if not statement.lstrip().upper().startswith("INSERT INTO REGISTRATIONS"):
            return False
        values = context.compiled_parameters[0]  # by column, whatever the paramstyle
        token = derive_token(REGISTRATION, values["token_nonce"])
        cut.values += [values["token_nonce"], values["token_hash"], token]
        cut.values += [values["name"], values["email"]]
        if engine.dialect.name == "postgresql":
            pid = cursor.connection.info.backend_pid
            killer = create_engine(POSTGRES_URL)
            with killer.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
            killer.dispose()
        else:
            cursor.connection.close()
        return False  # the driver runs the statement now, on the cut connection

    return cut


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_name(request) -> str:
    return request.param


@dataclass
class Logged:
    """The app's log output, as its handler in the chosen LOG_FORMAT writes it."""

    stream: io.StringIO

    @property
    def text(self) -> str:
        return self.stream.getvalue()


def _app_for(request, tmp_path, engine_name: str, log_format: str, hide: bool) -> Flask:
    """The app on `engine_name`, with the engine options of production (conftest merges
    config.ENGINE_OPTIONS) or, to test the redaction alone, without `hide_parameters`."""
    options = {} if hide else {"hide_parameters": False}
    # PROPAGATE_EXCEPTIONS off, as in production: an error the error handler itself raises
    # is logged by Flask and answered with a 500 rather than raised into the test.
    overrides = {
        "LOG_FORMAT": log_format,
        "RATELIMIT_ENABLED": False,
        "PROPAGATE_EXCEPTIONS": False,
    }
    if engine_name == "sqlite":
        app = make_app(tmp_path, sqlite_url(tmp_path), options, **overrides)
    else:
        schema = request.getfixturevalue("postgres_schema")
        options["connect_args"] = {"options": f"-csearch_path={schema}"}
        app = make_app(tmp_path, POSTGRES_URL, options, **overrides)
    with app.app_context():
        db.create_all()
        assert db.engine.hide_parameters is hide
    return app


@pytest.fixture
def logged(request, log_format: str) -> Iterator[Logged]:
    """Text mode: Flask's own formatter on a handler of the root logger. JSON mode: the
    handler `logs.configure` put on the root logger, writing to a buffer for the test."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    if log_format == "text":
        handler = logging.StreamHandler(stream)
        handler.setFormatter(default_handler.formatter)
        root.addHandler(handler)
    yield Logged(stream)
    if log_format == "text":
        root.removeHandler(handler)
    for handler in [h for h in root.handlers if h.get_name() == JSON_HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)


def _json_to(stream: io.StringIO) -> None:
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == JSON_HANDLER_NAME]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


def _register(client: FlaskClient, session_id: int):
    return client.post(
        f"/sessions/{session_id}/register",
        data={
            "name": NAME,
            "email": ADDRESS,
            "organisation": "",
            "language": "de",
            "consent": "y",
            "csrf_token": csrf_token(client, f"/sessions/{session_id}"),
        },
    )


def _assert_nothing_personal(written: str, log_format: str, secrets_: list[str]) -> None:
    assert "unhandled error" in written
    if log_format == "json":
        entries = [json.loads(line) for line in written.splitlines() if line.strip()]
        (entry,) = [e for e in entries if e["message"] == "unhandled error"]
        assert entry["level"] == "error" and "Traceback" in entry["error"]
    else:
        assert "Traceback" in written
    for secret in [NAME, ADDRESS, ADDRESS.lower(), *secrets_]:
        assert secret not in written
    for part in NAME.split():
        assert part not in written
    assert leaks(written) == []


@pytest.mark.parametrize("hide", [True, False], ids=["hide_parameters", "redaction_alone"])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_registration_cut_mid_transaction_logs_no_name_address_or_token(
    request, tmp_path, engine_name, log_format, hide, logged
):
    app = _app_for(request, tmp_path, engine_name, log_format, hide)
    if log_format == "json":
        _json_to(logged.stream)
    with app.app_context():
        session_id = make_session(make_format(), capacity=5).id
        db.session.commit()
    cut = _cut_registration_inserts(app)
    response = _register(app.test_client(), session_id)
    assert response.status_code == 500
    assert len(cut.values) == 5, "the registration was not inserted as expected"
    written = logged.text
    assert "INSERT INTO registrations" in written  # the traceback says what failed
    marker = "[SQL parameters hidden" if hide else "[parameters: <redacted>]"
    assert marker in written
    _assert_nothing_personal(written, log_format, cut.values)
    with app.app_context():  # the connection was given up, the next one works
        assert db.session.execute(text("SELECT 1")).scalar_one() == 1


@pytest.mark.parametrize("hide", [True, False], ids=["hide_parameters", "redaction_alone"])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_an_integrity_error_with_a_name_and_address_logs_neither(
    request, tmp_path, engine_name, log_format, hide, logged
):
    """A row the database refuses (no token hash): PostgreSQL quotes the whole row in its
    DETAIL line, which `hide_parameters` does not touch."""
    app = _app_for(request, tmp_path, engine_name, log_format, hide)
    if log_format == "json":
        _json_to(logged.stream)
    nonce = secrets.token_urlsafe(24)
    with app.app_context():
        session_id = make_session(make_format(), capacity=5).id
        db.session.commit()

    @app.post("/test-only/broken-registration")
    @csrf.exempt
    def broken_registration():
        db.session.add(
            Registration(
                session_id=session_id,
                name=NAME,
                email=ADDRESS.lower(),
                status=RegistrationStatus.CONFIRMED,
                consented_at=utcnow(),
                token_nonce=nonce,
                token_hash=None,
            )
        )
        db.session.commit()
        return "unreachable"

    assert app.test_client().post("/test-only/broken-registration").status_code == 500
    written = logged.text
    assert "IntegrityError" in written and "token_hash" in written
    _assert_nothing_personal(written, log_format, [nonce])
