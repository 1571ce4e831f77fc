"""The wire form of an outbox mail, assembled directly.

Every outbox mail has the same shape: multipart/alternative text and HTML, optionally inside
multipart/mixed with one calendar attachment. Building that through `email.message` costs
about 1.2 ms a mail, most of the delivery time (benchmarks/mail.py); joining the encoded parts
here costs a tenth of that. Encoding stays the standard library's: RFC 2047 headers from
`email.header`, addresses from `email.utils`, bodies base64 as RFC 2045 wants.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

CRLF = b"\r\n"


@dataclass(frozen=True)
class Outgoing:
    """What the worker needs of one outbox row (plain data, read once at claim time)."""

    id: int
    recipient: str
    language: str
    subject: str
    body_text: str
    body_html: str | None
    ics: str | None
    ics_method: str | None
    extra_headers: str
    message_id: str
    attempts: int


def _header_value(value: str) -> str:
    """A header value on one line; RFC 2047-encoded when it is not plain ASCII."""
    value = " ".join(value.splitlines()).strip()
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=76).encode(linesep="\r\n")


def _address(value: str) -> str:
    name, address = parseaddr(" ".join(value.splitlines()))
    return formataddr((name, address), charset="utf-8")


def _base64_part(content_type: str, data: bytes, extra: list[str] = ()) -> bytes:
    head = [f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64", *extra]
    body = base64.encodebytes(data).replace(b"\n", CRLF)
    return "\r\n".join(head).encode() + CRLF + CRLF + body


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    boundary = f"==eventsapp-{secrets.token_hex(12)}"
    chunks = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"'.encode(), b""]
    for part in parts:
        chunks += [f"--{boundary}".encode(), part]
    chunks += [f"--{boundary}--".encode(), b""]
    return CRLF.join(chunks)


def render(mail: Outgoing, *, sender: str, recipient: str, headers: dict[str, str]) -> bytes:
    """RFC 5322 bytes of one mail. `recipient` is already validated; header values may
    contain anything, they are written on one line each."""
    alternatives = [_base64_part('text/plain; charset="utf-8"', mail.body_text.encode())]
    if mail.body_html:
        alternatives.append(_base64_part('text/html; charset="utf-8"', mail.body_html.encode()))
    body = _multipart("alternative", alternatives)
    if mail.ics:
        method = (mail.ics_method or "PUBLISH").upper()
        name = "einladung.ics" if method == "REQUEST" else "termine.ics"
        calendar = _base64_part(
            f'text/calendar; method={method}; charset="utf-8"; name="{name}"',
            mail.ics.encode(),
            [f'Content-Disposition: attachment; filename="{name}"'],
        )
        body = _multipart("mixed", [body, calendar])
    lines = [
        f"From: {_address(sender)}",
        f"To: {recipient}",
        f"Subject: {_header_value(mail.subject)}",
        f"Date: {formatdate(usegmt=True)}",
        f"Message-ID: {_header_value(mail.message_id)}",
        "MIME-Version: 1.0",
    ]
    lines += [f"{_header_value(name)}: {_header_value(value)}" for name, value in headers.items()]
    return "\r\n".join(lines).encode() + CRLF + body
