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


def _mac(purpose: str, nonce: str) -> bytes:
    """HMAC-SHA256 of `nonce` under a key for `purpose` derived from the app's secret key."""
    key = hashlib.sha256(f"eventsapp-token:{purpose}:{current_app.secret_key}".encode()).digest()
    return hmac.new(key, nonce.encode(), hashlib.sha256).digest()


def derive_token(purpose: str, nonce: str) -> str:
    return base64.urlsafe_b64encode(_mac(purpose, nonce)).rstrip(b"=").decode()


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


CHECKIN = "checkin"
# Crockford's base 32: no I, L, O or U, so a code read aloud or typed is not mistaken.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 60 bits
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def checkin_code(registration: Registration) -> str:
    """The code on a registration's QR code and printed beneath it: what the door scans or
    types to check the person in. Derived from the manage link's nonce under another
    purpose, so it opens no page and changes with the manage link (a corrected address)."""
    digest = _mac(CHECKIN, registration.token_nonce)
    number = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_LENGTH)
    return "".join(
        CODE_ALPHABET[(number >> (5 * (CODE_LENGTH - 1 - i))) & 31] for i in range(CODE_LENGTH)
    )


def normalise_code(text: str) -> str | None:
    """A typed or scanned check-in code as stored, or None when it cannot be one: case,
    spaces and hyphens do not matter, O reads as 0, I and L as 1."""
    code = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def spaced_code(code: str) -> str:
    """K7QM-4XPD-9TRA: in groups of four for reading aloud."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def code_hash(code: str) -> str:
    """What the check-in page keeps on the device for each person: it can test a scanned
    code without holding the codes themselves."""
    return hashlib.sha256(f"eventsapp-checkin:{code}".encode()).hexdigest()
