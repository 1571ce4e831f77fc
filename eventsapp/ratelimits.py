"""Rate limits for the forms that write or send mail: per client address and per email.

Limits come from the configuration (RATELIMIT_ENABLED, RATELIMIT_STORAGE_URI for Redis when
several processes serve); a 429 gets a readable page in the visitor's language.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Callable

from flask import current_app, request

from eventsapp.emails import EmailNotValidError, normalise_email
from eventsapp.extensions import limiter


def _configured(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def rate_limit_key(address: str) -> str:
    """The key of an address's limits: its normalised form (see `normalise_email`), folded
    further (NFKC, case-folded), so that no way of writing one mailbox (fullwidth letters,
    upper case, a domain in Unicode or as xn--) gets limits of its own. Folding too much
    only ever joins two addresses' limits, never splits one's."""
    text = address.strip()[:254]
    with contextlib.suppress(EmailNotValidError):
        text = normalise_email(text)
    return unicodedata.normalize("NFKC", text).casefold() or "-"


def _submitted_email() -> str:
    """The address a form sent: its field `email`, or `<prefix>-email` in a form with a
    prefix (a page with two forms)."""
    address = request.form.get("email") or next(
        (value for name, value in request.form.items() if name.endswith("-email")), ""
    )
    return rate_limit_key(address)


def form_limits(name: str) -> Callable:
    """`<NAME>_RATE_LIMIT` per client address and `<NAME>_RATE_LIMIT_PER_EMAIL` per
    submitted address, on POST only."""

    def decorator(view: Callable) -> Callable:
        view = limiter.limit(
            _configured(f"{name}_RATE_LIMIT_PER_EMAIL"), methods=["POST"], key_func=_submitted_email
        )(view)
        return limiter.limit(_configured(f"{name}_RATE_LIMIT"), methods=["POST"])(view)

    return decorator


def client_limit(name: str) -> Callable:
    """`<NAME>_RATE_LIMIT` per client address, on POST only (forms without an address)."""
    return limiter.limit(_configured(f"{name}_RATE_LIMIT"), methods=["POST"])
