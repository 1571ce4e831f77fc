"""The wire form of an outbox mail, assembled directly.

Every outbox mail has the same shape: multipart/alternative text and HTML. An invitation
(iTIP REQUEST or CANCEL) adds its calendar as a third alternative, `text/calendar;
method=…`, where Outlook, Apple Mail, Gmail, Evolution and Thunderbird look for it to offer
accept/decline or "update calendar" (RFC 6047), and again as an `.ics` attachment for
programs that want a file; a list of new dates (PUBLISH) is an attachment only. Building
that through `email.message` costs about 1.2 ms a mail, most of the delivery time
(benchmarks/mail.py); joining the encoded parts here costs a tenth of that. Encoding stays
the standard library's: RFC 2047 headers from `email.header` (encoded words of at most 75
characters, lines of at most 78), addresses and dates from `email.utils`, bodies base64
as RFC 2045 wants, text in canonical form (CRLF line ends).
"""

from __future__ import annotations

import base64
import io
import secrets
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr

import segno

CRLF = b"\r\n"
LINE = 78  # RFC 5322 2.1.1: lines SHOULD be at most 78 characters
INVITATIONS = frozenset({"REQUEST", "CANCEL"})  # iTIP methods shown as an invitation


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
    checkin_code: str | None  # drawn as a QR code next to the HTML (a confirmed place)
    extra_headers: str
    message_id: str
    attempts: int


def _header_value(value: str, name: str = "") -> str:
    """A header value on one line; RFC 2047-encoded when it is not plain ASCII, folded so
    that no line (with `name`) passes 76 characters and no encoded word 75."""
    value = " ".join(value.splitlines()).strip()
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=76, header_name=name).encode(linesep="\r\n")


def _canonical(text: str) -> bytes:
    """Text as MIME wants it before base64 (RFC 2046 4.1.1): CRLF line ends."""
    return "\r\n".join(_lines(text)).encode() + CRLF


def _lines(text: str) -> list[str]:
    """The lines of `text` (CRLF, CR or LF), without the empty one after a final break;
    other characters Python counts as line breaks stay inside their line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def wrapped_text(text: str) -> str:
    """Plain text with lines of at most 78 characters where the words allow: a long
    line is broken at spaces and keeps its indent; an address longer than a line stays
    whole, so it can still be clicked."""
    lines = []
    for line in _lines(text):
        if len(line) <= LINE:
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        lines += textwrap.wrap(
            line,
            LINE,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [line]
    return "\n".join(lines)


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


QR_CONTENT_ID = "checkin-qr@eventsapp"  # the HTML shows it as <img src="cid:…">


def qr_png(code: str) -> bytes:
    """The check-in code as a QR code (PNG, 6 px a module with the quiet zone): mail
    programs show PNG inline where many refuse SVG."""
    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def render(mail: Outgoing, *, sender: str, recipient: str, headers: dict[str, str]) -> bytes:
    """RFC 5322 bytes of one mail. `recipient` is already validated; header values may
    contain anything, they are written on one line each."""
    text = _canonical(wrapped_text(mail.body_text))
    alternatives = [_base64_part('text/plain; charset="utf-8"', text)]
    if mail.body_html:
        html = _base64_part('text/html; charset="utf-8"', _canonical(mail.body_html))
        if mail.checkin_code:
            # The HTML and the image it shows belong together (RFC 2387).
            image = _base64_part(
                'image/png; name="check-in.png"',
                qr_png(mail.checkin_code),
                [
                    f"Content-ID: <{QR_CONTENT_ID}>",
                    'Content-Disposition: inline; filename="check-in.png"',
                ],
            )
            html = _multipart('related; type="text/html"', [html, image])
        alternatives.append(html)
    method = (mail.ics_method or "PUBLISH").upper()
    calendar = _canonical(mail.ics) if mail.ics else b""
    if calendar and method in INVITATIONS:
        alternatives.append(
            _base64_part(f'text/calendar; charset="utf-8"; method={method}', calendar)
        )
    body = _multipart("alternative", alternatives)
    if calendar:
        if method in INVITATIONS:
            kind, name = "application/ics", "einladung.ics"
        else:
            kind, name = f'text/calendar; charset="utf-8"; method={method}', "termine.ics"
        attachment = _base64_part(
            f'{kind}; name="{name}"',
            calendar,
            [f'Content-Disposition: attachment; filename="{name}"'],
        )
        body = _multipart("mixed", [body, attachment])
    lines = [
        f"From: {_address(sender)}",
        f"To: {recipient}",
        f"Subject: {_header_value(mail.subject, 'Subject')}",
        f"Date: {format_datetime(datetime.now(UTC))}",  # numeric zone: +0000
        f"Message-ID: {_header_value(mail.message_id, 'Message-ID')}",
        "MIME-Version: 1.0",
    ]
    for name, value in headers.items():
        name = _header_value(name)
        lines.append(f"{name}: {_header_value(value, name)}")
    return "\r\n".join(lines).encode() + CRLF + body
