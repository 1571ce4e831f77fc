"""Secret link tokens that the database alone cannot reproduce.

A row keeps a random nonce and the SHA-256 of its token. The token itself is an HMAC of the
nonce under the app's secret key, so any later mail can carry the same link again without
the plain token ever being stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from eventsapp.models import Registration

REGISTRATION = "registration"


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def derive_token(purpose: str, nonce: str) -> str:
    key = hashlib.sha256(f"eventsapp-token:{purpose}:{current_app.secret_key}".encode()).digest()
    digest = hmac.new(key, nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def manage_token(registration: Registration) -> str:
    """The secret of a registration's manage link (the same in every mail)."""
    return derive_token(REGISTRATION, registration.token_nonce)


FEEDBACK = "feedback"


def feedback_token(nonce: str) -> str:
    """The secret of a feedback link (the invitation's and the reminder's)."""
    return derive_token(FEEDBACK, nonce)


def address_key(email: str) -> str:
    """A normalised address as a keyed hash: a list of such keys answers "is this address
    on it?" without holding the addresses, and the database alone cannot test one."""
    return derive_token("address", email)
