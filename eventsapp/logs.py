"""Logging: one JSON object a line in production, and nothing personal or secret in any line.

The people in this app trust a police authority with their names and addresses, so a log
line must not carry either, nor anything that opens a personal link. Three layers:

1. SQL parameters never reach an exception message or a log line: the engine runs with
   `hide_parameters=True` (config.ENGINE_OPTIONS). That is the one place where names turn up
   on their own, and no pattern could find a name.
2. Every record is redacted once, when it is made (`logging.setLogRecordFactory`, installed
   by `configure`): its message with the arguments merged in, its traceback and its stack.
   So every handler prints the redacted text, whoever added it (Flask's, gunicorn's,
   werkzeug's, alembic's, pytest's) and in text and JSON mode alike. The traceback is kept
   as redacted text in `exc_text`, which every `logging.Formatter` prints as it is; the live
   exception (`exc_info`) is dropped from the record, so no formatter can print it again
   unredacted.
3. `redact` replaces, in this order:
   - secret link paths (`/registrations/<token>`, `/feeds/…`, `/subscriptions/…`,
     `/my-data/…`, `/my-calendar/…`, `/access/…`, `/auth/set-password/…`,
     `/auth/reset/…`, `/address/…`, `/feedback/…`): the segment after the prefix becomes
     `<secret>`;
   - SQL parameter dumps (`[parameters: …]`, should an engine without `hide_parameters` slip
     through) and PostgreSQL's `DETAIL:  Key (…)=(…)` and `DETAIL:  Failing row contains (…)`,
     which quote the row's values (names included) whatever `hide_parameters` says; each up
     to the end of its line;
   - mail addresses, also with Unicode local parts and domains (`ayşe@örnek.de`), full-width
     forms (`partner3@ｖｍｄｏ.example`, `＠`, `．`, `。`) and `%40` from URLs: `<email>`;
   - tokens and nonces: a run of 20 or more base64url characters that looks random, or of 32
     or more hex digits: `<token>`. "Looks random" means it mixes upper and lower case and
     has a digit, `-` or `_`, or is at least a quarter upper case. Literally every run of 20
     base64url characters would also erase `_handle_dbapi_exception` and every other long
     function name from tracebacks; a `secrets.token_urlsafe(24)` nonce (32 characters) is
     missed by this rule about once in a million, a 43-character derived token more rarely.

Not covered, by design: names in free text (they cannot be recognised; keep them out of
messages, as the code does) and fields passed with `extra=` (no formatter here prints them).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask

# What each kind of secret is replaced with (placeholders, not secrets).
SECRET = "<secret>"  # noqa: S105
EMAIL_MASK = "<email>"
TOKEN_MASK = "<token>"  # noqa: S105
REDACTED = "<redacted>"

# The prefixes of links whose last path segment is a secret (new ones belong here too).
SECRET_PREFIXES = (
    "registrations",
    "feeds",
    "subscriptions",
    "my-data",
    "my-calendar",
    "access",
    "auth/set-password",
    "auth/reset",
    "address",
    "feedback",
)
_PREFIXES = "|".join(map(re.escape, SECRET_PREFIXES))
SECRET_PATH = re.compile(rf"(/(?:{_PREFIXES})/)[^/\s?#&\"'<>]+")

# SQLAlchemy's "[parameters: {...}]" and PostgreSQL's DETAIL lines that quote values.
SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
SQL_DETAIL = re.compile(r"(DETAIL:\s+)(?:Key \(|Failing row contains)[^\n]*")

# Local part: letters and digits of any script plus the usual specials; "@" also full-width
# or percent-encoded; domain labels of any script, separated by any dot IDNA accepts.
_DOT = r"[.\u3002\uff0e\uff61]"
EMAIL = re.compile(
    rf"[\w.!#$%&*+?^`{{|}}~\-]+(?:@|\uff20|%40)[\w\-]+(?:{_DOT}[\w\-]+)+",
)

_B64 = r"A-Za-z0-9_\-"
TOKEN_CANDIDATE = re.compile(rf"(?<![{_B64}])[{_B64}]{{20,}}(?![{_B64}])")
_HEX = re.compile(r"[0-9A-Fa-f]{32,}")


def looks_like_token(text: str) -> bool:
    """Whether a base64url run of 20+ characters is a token rather than a long identifier.

    Identifiers are lower case with underscores (`_handle_dbapi_exception`), upper case
    (`SQLALCHEMY_ENGINE_OPTIONS`) or CamelCase (`PendingRollbackError`); random strings
    mix cases and carry digits or `-`/`_`, or at least many capitals.
    """
    if len(text) >= 32 and _HEX.fullmatch(text):
        return True
    if len(text) < 20:
        return False
    upper = sum(c.isupper() for c in text)
    if not upper or not any(c.islower() for c in text):
        return False
    return any(c.isdigit() or c in "-_" for c in text) or upper * 4 >= len(text)


def _mask_token(match: re.Match[str]) -> str:
    return TOKEN_MASK if looks_like_token(match.group()) else match.group()


def redact(text: str) -> str:
    """`text` without secret links, SQL values, mail addresses and tokens (see above).

    Idempotent: the masks match none of the patterns, so redacting twice changes nothing.
    """
    text = SECRET_PATH.sub(rf"\1{SECRET}", text)
    text = SQL_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
    text = SQL_DETAIL.sub(rf"\1{REDACTED}", text)
    text = EMAIL.sub(EMAIL_MASK, text)
    return TOKEN_CANDIDATE.sub(_mask_token, text)


def leaks(text: str) -> list[str]:
    """What `redact` would mask in `text`: addresses, tokens and secret link segments.

    For tests and checks; an empty list means the text is clean by these rules.
    """
    found = [m.group() for m in SECRET_PATH.finditer(text) if not m.group().endswith(SECRET)]
    found += [m.group() for m in SQL_PARAMETERS.finditer(text) if REDACTED not in m.group()]
    found += [m.group() for m in EMAIL.finditer(text)]
    found += [m.group() for m in TOKEN_CANDIDATE.finditer(text) if looks_like_token(m.group())]
    return found


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: message (arguments merged), traceback and stack.

    Runs once per record, when it is made. Logging must never fail the caller, so a message
    whose arguments do not fit it is kept as its (redacted) template.
    """
    try:
        message = record.getMessage()
    except Exception:
        message = f"{record.msg} (log arguments did not fit the message)"
    record.msg = redact(message)
    record.args = ()
    if record.exc_info and record.exc_info[0] is not None:
        if not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


_MARK = "_eventsapp_redacting"


def install_record_factory() -> None:
    """Wrap the current record factory so that every record is redacted when it is made.

    Idempotent: once installed (by any app in this process), later calls change nothing.
    """
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(previous, _MARK, False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    setattr(redacting_factory, _MARK, True)
    logging.setLogRecordFactory(redacting_factory)


class RedactingFilter(logging.Filter):
    """For records not made through the factory (`logging.makeLogRecord`, a hand-built
    `LogRecord`): redacts them as the factory would. A no-op on records already redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and, if any, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        error = record.exc_text
        if not error and record.exc_info and record.exc_info[0] is not None:
            error = self.formatException(record.exc_info)
        if error:
            entry["error"] = redact(error)
        if record.stack_info:
            entry["stack"] = redact(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


JSON_HANDLER_NAME = "eventsapp-json"


def configure(app: Flask) -> None:
    """Redact every record; write JSON lines to stderr when LOG_FORMAT=json (production).

    Safe to call for many apps in one process (the tests): the factory is installed once and
    the JSON handler is added to the root logger once. Handlers others added to the root
    (gunicorn, pytest) stay; they print the redacted records as well.
    """
    install_record_factory()
    root = logging.getLogger()
    if app.config["LOG_FORMAT"] == "json":
        if not any(h.get_name() == JSON_HANDLER_NAME for h in root.handlers):
            handler = logging.StreamHandler()
            handler.set_name(JSON_HANDLER_NAME)
            handler.setFormatter(JSONFormatter())
            root.addHandler(handler)
        root.setLevel(app.config["LOG_LEVEL"])
