"""How an outbox mail goes on the wire: its bytes, its one recipient, and the transport.

Kept apart from the delivery loop (delivery.py), which decides what is sent when and records
what happened; nothing here touches the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

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
    return mime.render(
        mail,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        recipient=checked_recipient(mail.recipient),
        headers=headers,
    )
