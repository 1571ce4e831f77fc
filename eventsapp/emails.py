"""Email addresses as the rules compare them."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

__all__ = ["EmailNotValidError", "normalise_email"]


def normalise_email(address: str) -> str:
    """Validate an address (syntax only, no DNS) and return its canonical form.

    The whole address is lower-cased: mailbox names are case-insensitive at every provider
    our users have, and "Ayse@…" and "ayse@…" must count as the same person.
    """
    result = validate_email(address.strip(), check_deliverability=False)
    return result.normalized.lower()
