"""Configuration from the environment.

Nothing here needs a service to be installed: without DATABASE_URL the app uses SQLite in
the instance folder, and without MAIL_SERVER mail is written to instance/mail/.
Values that depend on the instance folder are filled in by `create_app`.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value and value.strip() else default


# Options for every database engine. `hide_parameters` keeps the values bound to a statement
# (names, addresses, token nonces) out of SQLAlchemy's exception messages and log lines: a
# traceback then shows the SQL but "[SQL parameters hidden due to hide_parameters=True]"
# instead of the row (eventsapp/logs.py redacts what is left). Overrides passed to
# `create_app` should be merged into these, not replace them (tests/conftest.py does).
ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}


class Config:
    """Settings for a real deployment; every value can be set from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")  # None: a key is kept in instance/secret_key
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = dict(ENGINE_OPTIONS)

    EVENTSAPP_BASE_URL = os.environ.get("EVENTSAPP_BASE_URL", "http://127.0.0.1:5000")
    EVENTSAPP_TIMEZONE = os.environ.get("EVENTSAPP_TIMEZONE", "Europe/Berlin")
    EVENTSAPP_SITE_NAME = os.environ.get("EVENTSAPP_SITE_NAME", "Dialog-Termine")
    EVENTSAPP_OPERATOR = os.environ.get("EVENTSAPP_OPERATOR", "Polizeipräsidium Dortmund")
    # The controller named on /privacy and /imprint (DSGVO Art. 13); set per deployment.
    EVENTSAPP_OPERATOR_ADDRESS = os.environ.get(
        "EVENTSAPP_OPERATOR_ADDRESS", "Markgrafenstraße 102, 44139 Dortmund"
    )
    EVENTSAPP_PRIVACY_CONTACT = os.environ.get(
        "EVENTSAPP_PRIVACY_CONTACT", "datenschutz@polizei-dortmund.example"
    )
    EVENTSAPP_ACCESSIBILITY_CONTACT = os.environ.get(
        "EVENTSAPP_ACCESSIBILITY_CONTACT", "barrierefreiheit@polizei-dortmund.example"
    )
    # Days after a session at which its registrations lose name and address.
    # The domain in the calendar UIDs of new sessions (default: EVENTSAPP_BASE_URL's host).
    # Each session keeps the UID it was created with, whatever this or the base URL become.
    EVENTSAPP_CALENDAR_DOMAIN = os.environ.get("EVENTSAPP_CALENDAR_DOMAIN") or None
    EVENTSAPP_RETENTION_DAYS = _int("EVENTSAPP_RETENTION_DAYS", 30)
    # Languages the interface and mails are offered in (catalogs must exist for each).
    EVENTSAPP_LANGUAGES = ("de", "en", "tr", "ar", "fr", "uk")

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _flag("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _flag("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Dialog-Termine <no-reply@eventsapp.invalid>"
    )
    # Flask-Mail would silently drop mail whenever TESTING is on; tests use a real server.
    MAIL_SUPPRESS_SEND = False
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR")  # None: instance/mail
    # DKIM: sign every mail with this private key (PEM, RSA) under this selector; the
    # domain defaults to the sender's. Off without a key file (docs/operations.md).
    MAIL_DKIM_KEY_FILE = os.environ.get("MAIL_DKIM_KEY_FILE") or None
    MAIL_DKIM_SELECTOR = os.environ.get("MAIL_DKIM_SELECTOR") or None
    MAIL_DKIM_DOMAIN = os.environ.get("MAIL_DKIM_DOMAIN") or None
    # Refuse addresses whose domain takes no mail (MX/A lookup, 2 s; skipped without DNS).
    EMAIL_CHECK_DELIVERABILITY = _flag("EMAIL_CHECK_DELIVERABILITY", True)
    OUTBOX_BATCH_SIZE = _int("OUTBOX_BATCH_SIZE", 50)
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 8)
    OUTBOX_LEASE_SECONDS = _int("OUTBOX_LEASE_SECONDS", 300)
    OUTBOX_RETENTION_DAYS = _int("OUTBOX_RETENTION_DAYS", 30)  # then sent bodies are purged

    # Seconds a cached feed is served before its fingerprint is read again (0: every time).
    FEED_RECHECK_SECONDS = float(os.environ.get("FEED_RECHECK_SECONDS", "2"))
    # The same for public pages kept for anonymous visitors (eventsapp/pagecache.py).
    PAGE_RECHECK_SECONDS = float(os.environ.get("PAGE_RECHECK_SECONDS", "2"))

    # Behind a reverse proxy: how many hops set X-Forwarded-For/-Proto/-Host (0: none).
    PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # "json" in production
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    HSTS_SECONDS = _int("HSTS_SECONDS", 31536000)  # sent on HTTPS responses only

    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("EVENTSAPP_TIMEZONE", "Europe/Berlin")

    # argon2id cost (RFC 9106 second recommendation: 3 passes over 64 MiB).
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _int("ARGON2_MEMORY_COST", 65536)

    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    LOGIN_RATE_LIMIT_PER_EMAIL = os.environ.get("LOGIN_RATE_LIMIT_PER_EMAIL", "10 per 15 minutes")
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "10 per minute")
    REGISTER_RATE_LIMIT_PER_EMAIL = os.environ.get("REGISTER_RATE_LIMIT_PER_EMAIL", "10 per hour")
    SUBSCRIBE_RATE_LIMIT = os.environ.get("SUBSCRIBE_RATE_LIMIT", "10 per minute")
    SUBSCRIBE_RATE_LIMIT_PER_EMAIL = os.environ.get("SUBSCRIBE_RATE_LIMIT_PER_EMAIL", "5 per hour")
    PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "5 per minute")
    PASSWORD_RESET_RATE_LIMIT_PER_EMAIL = os.environ.get(
        "PASSWORD_RESET_RATE_LIMIT_PER_EMAIL", "3 per hour"
    )
    DATA_REQUEST_RATE_LIMIT = os.environ.get("DATA_REQUEST_RATE_LIMIT", "5 per minute")
    DATA_REQUEST_RATE_LIMIT_PER_EMAIL = os.environ.get(
        "DATA_REQUEST_RATE_LIMIT_PER_EMAIL", "3 per hour"
    )
    # Forms without an address to key on: per client address only.
    FEEDBACK_RATE_LIMIT = os.environ.get("FEEDBACK_RATE_LIMIT", "3 per minute;10 per day")
    # The anonymous feedback form after a session (per client address).
    SESSION_FEEDBACK_RATE_LIMIT = os.environ.get("SESSION_FEEDBACK_RATE_LIMIT", "20 per minute")
    CALENDAR_LINK_RATE_LIMIT = os.environ.get(
        "CALENDAR_LINK_RATE_LIMIT", "3 per minute;10 per hour"
    )

    WTF_CSRF_TIME_LIMIT = 8 * 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    MAX_CONTENT_LENGTH = 1024 * 1024


class DevelopmentConfig(Config):
    """`make run`: plain HTTP on localhost, so the session cookie may not be Secure."""

    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # The demo's addresses are made up (.example, example.org): a domain check would refuse
    # every one of them. Set EMAIL_CHECK_DELIVERABILITY=1 to try the check locally.
    EMAIL_CHECK_DELIVERABILITY = _flag("EMAIL_CHECK_DELIVERABILITY", False)


class TestConfig(Config):
    """Tests pass the database URL and mail settings they need as overrides."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - fixed key for reproducible tests
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    EVENTSAPP_BASE_URL = "http://eventsapp.test"
    FEED_RECHECK_SECONDS = 0.0  # every request checks: tests see changes at once
    PAGE_RECHECK_SECONDS = 0.0
    # Still argon2id, at a cost that keeps hundreds of test logins quick.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8192
    MAIL_SERVER = None
    EMAIL_CHECK_DELIVERABILITY = False  # no DNS in tests; tests of the check turn it on
