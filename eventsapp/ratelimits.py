"""Rate limits for the forms that write or send mail: per client address and per email.

Limits come from the configuration (RATELIMIT_ENABLED, RATELIMIT_STORAGE_URI for Redis when
several processes serve); a 429 gets a readable page in the visitor's language.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request

from eventsapp.extensions import limiter


def _configured(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _submitted_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:254] or "-"


def form_limits(name: str) -> Callable:
    """`<NAME>_RATE_LIMIT` per client address and `<NAME>_RATE_LIMIT_PER_EMAIL` per
    submitted address, on POST only."""

    def decorator(view: Callable) -> Callable:
        view = limiter.limit(
            _configured(f"{name}_RATE_LIMIT_PER_EMAIL"), methods=["POST"], key_func=_submitted_email
        )(view)
        return limiter.limit(_configured(f"{name}_RATE_LIMIT"), methods=["POST"])(view)

    return decorator
