"""Fixtures: an app on a fresh SQLite file per test, PostgreSQL on request, a real SMTP server."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from config import ENGINE_OPTIONS
from eventsapp import create_app
from eventsapp.database import db
from eventsapp.logs import leaks
from eventsapp.models import OrganisationKind, Role
from tests.factories import make_format, make_organisation, make_session, make_user

TRANSLATIONS = Path(__file__).resolve().parent.parent / "eventsapp" / "translations"


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """Compile the catalogs like `make test` does, so a bare `pytest` sees every language."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with mo.open("wb") as target:
                write_mo(target, catalog)


# --- no personal data in any log line ----------------------------------------------------


class LeakGuard(logging.Handler):
    """Formats every record of the session (message and traceback) as a handler would write
    it, and keeps those that still carry a mail address, a token or a secret link.

    Names cannot be found by a pattern; tests/test_logs.py checks them where they would
    come from (SQL errors of a registration).
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.test = "(no test)"
        self.seen = 0
        self.leaked: list[tuple[str, str, list[str]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        self.seen += 1
        found = leaks(text)
        if found:
            self.leaked.append((self.test, text, found))

    def attach(self) -> None:
        """On the root logger at INFO, with every logger enabled. Again before each test:
        alembic's env.py (`fileConfig`) drops the root's handlers and disables every
        logger it does not name, so after a migration test nothing else would be seen."""
        root = logging.getLogger()
        if self not in root.handlers:
            root.addHandler(self)
        if root.level > logging.INFO:
            root.setLevel(logging.INFO)
        for logger in logging.root.manager.loggerDict.values():
            if isinstance(logger, logging.Logger) and logger.disabled:
                logger.disabled = False


_leak_guard = LeakGuard()


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_logs() -> Iterator[LeakGuard]:
    """Fails the run (an error at the last test's teardown) when any record logged during
    the session, traceback included, holds a mail address, a token or a secret link."""
    root = logging.getLogger()
    level = root.level
    _leak_guard.attach()
    yield _leak_guard
    root.removeHandler(_leak_guard)
    root.setLevel(level)
    if _leak_guard.leaked:
        report = "\n\n".join(
            f"{test}: {found}\n{text}" for test, text, found in _leak_guard.leaked[:20]
        )
        pytest.fail(
            f"{len(_leak_guard.leaked)} of {_leak_guard.seen} log records carry an address, "
            f"a token or a secret link:\n\n{report}",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def watch_logs(request: pytest.FixtureRequest, no_personal_data_in_logs: LeakGuard) -> None:
    """Names the running test in the leak report and puts the guard back in place."""
    no_personal_data_in_logs.test = request.node.nodeid
    no_personal_data_in_logs.attach()


POSTGRES_URL = os.environ.get(
    "EVENTSAPP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reachable() -> bool:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    if _postgres_reachable():
        return True
    if os.environ.get("EVENTSAPP_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL required but not reachable at {POSTGRES_URL}")
    return False


@pytest.fixture
def postgres_schema(postgres_available: bool) -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards: tests never share tables."""
    if not postgres_available:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    schema = f"eventsapp_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


# `make test` runs the suite twice: on SQLite, then with EVENTSAPP_TEST_ENGINE=postgresql.
ENGINE = os.environ.get("EVENTSAPP_TEST_ENGINE", "sqlite")
_schemas: list[str] = []


def _new_postgres_schema() -> str:
    schema = f"eventsapp_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    _schemas.append(schema)
    return schema


_apps: list[Flask] = []


@pytest.fixture(autouse=True)
def drop_test_schemas() -> Iterator[None]:
    """After each test: close every connection its apps opened, then drop the PostgreSQL
    schemas it made, one transaction each."""
    yield
    while _apps:
        app = _apps.pop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if _schemas:
        engine = create_engine(POSTGRES_URL)
        while _schemas:
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{_schemas.pop()}" CASCADE'))
        engine.dispose()


def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'eventsapp.sqlite'}"


def make_app(
    tmp_path, database_url: str | None = None, engine_options: dict | None = None, **overrides
) -> Flask:
    """The app for one test, on the engine this run tests (a fresh database each time)."""
    if database_url is None and ENGINE == "postgresql":
        database_url = POSTGRES_URL
        engine_options = {"connect_args": {"options": f"-csearch_path={_new_postgres_schema()}"}}
    database_url = database_url or sqlite_url(tmp_path)
    options = {**ENGINE_OPTIONS, **(engine_options or {})}  # hide_parameters as in production
    app = create_app(
        "TestConfig",
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS=options,
        INSTANCE_PATH=tmp_path / "instance",
        **overrides,
    )
    _apps.append(app)
    return app


def postgres_app(tmp_path, schema: str, **overrides) -> Flask:
    return make_app(
        tmp_path,
        POSTGRES_URL,
        {"connect_args": {"options": f"-csearch_path={schema}"}},
        **overrides,
    )


def _create_tables(app: Flask) -> Flask:
    with app.app_context():
        db.create_all()
    return app


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    """The app on a fresh SQLite file (a file, so that threads share it as servers do)."""
    app = _create_tables(make_app(tmp_path))
    yield app
    _dispose(app)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request, tmp_path) -> Iterator[Flask]:
    """The app on a file SQLite database, then on PostgreSQL. Race tests send many requests
    from one address, so rate limits are switched off here, explicitly."""
    if request.param == "sqlite":
        app = make_app(tmp_path, sqlite_url(tmp_path), RATELIMIT_ENABLED=False)
    else:
        app = postgres_app(
            tmp_path, request.getfixturevalue("postgres_schema"), RATELIMIT_ENABLED=False
        )
    _create_tables(app)
    yield app
    _dispose(app)


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An application context for service tests."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on `url`, as a browser would submit it."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no csrf_token on {url}"
    return match.group(1)


# --- a real SMTP server -------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    data: bytes  # as it arrived, for checks that need the exact bytes (DKIM)


@dataclass
class SMTPSink:
    """Collects what the SMTP server receives."""

    messages: list[ReceivedMail] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(
            ReceivedMail(
                envelope.mail_from, list(envelope.rcpt_tos), message, envelope.original_content
            )
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m.message for m in self.messages if address in m.rcpt_tos]


class SlowSink:
    """An SMTP handler that takes `delay` seconds per mail and notes each Message-ID, so
    a worker can be stopped mid-batch or overtaken by another."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.message_ids: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(self.delay)
        for line in envelope.original_content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                self.message_ids.append(line.split(b":", 1)[1].strip().decode())
                break
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SMTPServer:
    host: str
    port: int
    sink: SMTPSink
    controller: Controller

    def config(self) -> dict:
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_USE_TLS": False}


def start_smtp_server(port: int | None = None) -> SMTPServer:
    sink = SMTPSink()
    port = port or free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return SMTPServer("127.0.0.1", port, sink, controller)


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """An aiosmtpd server on a free local port for the duration of one test."""
    server = start_smtp_server()
    try:
        yield server
    finally:
        server.controller.stop()


def login(
    client: FlaskClient,
    email: str,
    password: str = "correct horse battery staple",
    next_url: str | None = None,
):
    """Sign in through the login form, as a person would."""
    url = "/auth/login" + (f"?next={next_url}" if next_url else "")
    token = csrf_token(client, "/auth/login")
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def mail_app(tmp_path, smtp_server) -> Iterator[Flask]:
    """The app on a fresh SQLite file, sending to the test SMTP server."""
    app = _create_tables(make_app(tmp_path, **smtp_server.config()))
    yield app
    _dispose(app)


# --- a live server and a real browser ----------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app(tmp_path, smtp_server):
    """The app served over HTTP on a free local port, mailing to the test SMTP server."""
    port = free_port()
    app = make_app(tmp_path, EVENTSAPP_BASE_URL=f"http://127.0.0.1:{port}", **smtp_server.config())
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()  # the port is free again, nothing answers on it any more
    thread.join()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def office(app):
    """An organiser of the host signed in (`client`), with a partner organisation, a format
    and a published session of 3 seats; their ids, the organiser's address and the
    session's local date (`day`)."""
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, name="Polizeipräsidium Dortmund")
        partner = make_organisation(OrganisationKind.PARTNER, name="VMDO")
        user = make_user(Role.ORGANISER, host, email="kim@polizei.example")
        format = make_format(host, title="Blick in die Polizei")
        session = make_session(format, capacity=3)
        db.session.commit()
        ids = {
            "host": host.id,
            "partner": partner.id,
            "format": format.id,
            "session": session.id,
            "email": user.email,
            "day": session.local_start.date(),
        }
    client = app.test_client()
    assert login(client, ids["email"]).status_code == 303
    ids["client"] = client
    return ids
