"""How an outbox mail goes on the wire: its bytes, its one recipient, and the transport.

Kept apart from the delivery loop (delivery.py), which decides what is sent when and records
what happened; nothing here touches the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Protocol

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key
from flask import current_app
from flask_mail import Connection

from eventsapp.emails import EmailNotValidError, normalise_email
from eventsapp.extensions import mail as flask_mail
from eventsapp.mail import mime
from eventsapp.mail.mime import Outgoing

log = logging.getLogger(__name__)


class Transport(Protocol):
    def send(self, recipient: str, data: bytes, message_id: str) -> None: ...


class FileTransport:
    """Writes each mail as an .eml file; used when no MAIL_SERVER is configured."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def send(self, recipient: str, data: bytes, message_id: str) -> None:
        name = message_id.strip("<>").replace("@", "_at_").replace("/", "_")
        path = self.directory / f"{name}.eml"
        path.write_bytes(data)
        log.info("mail written to %s", path)


class SMTPTransport:
    """Many mails over one connection, opened and configured by Flask-Mail."""

    def __init__(self, connection: Connection, envelope_from: str) -> None:
        self.connection = connection
        self.envelope_from = envelope_from

    def send(self, recipient: str, data: bytes, message_id: str) -> None:
        self.connection.host.sendmail(self.envelope_from, [recipient], data)


@contextmanager
def open_transport() -> Iterator[Transport]:
    """Files without MAIL_SERVER, else one SMTP connection (opened, secured and
    authenticated by Flask-Mail) for the whole pass."""
    if not current_app.config.get("MAIL_SERVER"):
        yield FileTransport(Path(current_app.config["MAIL_FILE_DIR"]))
        return
    with flask_mail.connect() as connection:
        yield SMTPTransport(connection, parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1])


class UndeliverableMessage(ValueError):
    """A row that no retry can fix (a recipient that is not one address, say)."""


def checked_recipient(address: str) -> str:
    """Exactly one valid address, or UndeliverableMessage: nothing can add a recipient."""
    try:
        recipient = normalise_email(address)
    except EmailNotValidError as error:
        raise UndeliverableMessage(f"invalid recipient: {error}") from error
    if recipient != address.strip().lower():
        raise UndeliverableMessage("recipient is not a single plain address")
    return recipient


def message_bytes(mail: Outgoing) -> bytes:
    """The mail as sent. Header values are single lines whatever reached the row."""
    headers = {"Content-Language": mail.language, "Auto-Submitted": "auto-generated"}
    for line in mail.extra_headers.splitlines():
        name, _, value = line.partition(":")
        if name.strip() and value.strip():
            headers[name.strip()] = value.strip()
    data = mime.render(
        mail,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        recipient=checked_recipient(mail.recipient),
        headers=headers,
    )
    return dkim_signed(data, current_app.config)


# --- DKIM ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DkimKey:
    private_key: bytes
    selector: str
    domain: str


def dkim_key(config: Any) -> DkimKey | None:
    """The configured signing key, or None when DKIM is off. A key that is configured but
    cannot be used stops the app at start (create_app), not at the first mail."""
    key_file = config.get("MAIL_DKIM_KEY_FILE")
    if not key_file:
        return None
    selector = config.get("MAIL_DKIM_SELECTOR")
    if not selector:
        raise RuntimeError("MAIL_DKIM_KEY_FILE is set, MAIL_DKIM_SELECTOR is not")
    domain = config.get("MAIL_DKIM_DOMAIN") or parseaddr(config["MAIL_DEFAULT_SENDER"])[1]
    domain = domain.rpartition("@")[2]
    try:
        private_key = Path(key_file).read_bytes()
        parse_pem_private_key(private_key)
    except (OSError, UnparsableKeyError) as error:
        raise RuntimeError(f"MAIL_DKIM_KEY_FILE {key_file}: {error}") from error
    return DkimKey(private_key, selector, domain)


def dkim_signed(data: bytes, config: Any) -> bytes:
    """`data` with a DKIM-Signature header in front (relaxed canonicalisation of headers
    and body, dkimpy's choice of headers), or unchanged when DKIM is off."""
    key = dkim_key(config)
    if key is None:
        return data
    signature = dkim.sign(
        data,
        key.selector.encode(),
        key.domain.encode(),
        key.private_key,
        canonicalize=(b"relaxed", b"relaxed"),
    )
    return signature + data
