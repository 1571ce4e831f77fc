"""Logging: one JSON object a line in production, and never a secret link or an address.

Manage, feed, subscription, data and password links carry their secret in the path; mail
addresses are personal data. Both are masked in every record before it is written.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from flask import Flask

SECRET_PATH = re.compile(
    r"(/(?:registrations|feeds|subscriptions|my-data|auth/set-password)/)[^/\s?\"']+"
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def redact(text: str) -> str:
    return EMAIL.sub("<email>", SECRET_PATH.sub(r"\1<secret>", text))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(app: Flask) -> None:
    """Mask secrets everywhere; write JSON lines when LOG_FORMAT=json (production)."""
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JSONFormatter())
        if not any(isinstance(h.formatter, JSONFormatter) for h in root.handlers):
            root.handlers = [handler]
            root.setLevel(app.config["LOG_LEVEL"])
    for logger in (app.logger, logging.getLogger("eventsapp")):
        for existing in logger.handlers:
            existing.addFilter(RedactingFilter())
