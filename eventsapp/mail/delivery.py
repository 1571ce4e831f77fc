"""Delivering the outbox: claim due rows, send them, record the outcome.

Delivery is at-least-once. A row is claimed with a lease before sending; if the worker
dies, the lease runs out and another worker sends it again with the same Message-ID.
On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so several workers never take the same
row; on SQLite the claim runs under the database write lock.
"""

from __future__ import annotations

import logging
import random
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from flask import current_app
from flask_mail import BadHeaderError, Message
from sqlalchemy import func, or_, select, update

from eventsapp.database import db
from eventsapp.extensions import mail
from eventsapp.models import OutboxMessage, OutboxStatus
from eventsapp.services.emails import EmailNotValidError, normalise_email

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


class Transport(Protocol):
    def send(self, message: Message) -> None: ...


class FileTransport:
    """Writes each mail as an .eml file; used when no MAIL_SERVER is configured."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def send(self, message: Message) -> None:
        name = message.msgId.strip("<>").replace("@", "_at_").replace("/", "_")
        path = self.directory / f"{name}.eml"
        path.write_bytes(message.as_bytes())
        log.info("mail to %s written to %s", ", ".join(message.recipients), path)


def claim_due(*, now: datetime, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for this worker and commit the claim."""
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    stmt = (
        select(OutboxMessage)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.PENDING)
                & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.lease_until < now),
            )
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(db.session.execute(stmt).scalars())
    for row in rows:
        row.status = OutboxStatus.SENDING
        row.lease_until = now + lease
        row.attempts += 1
    db.session.commit()
    return rows


class UndeliverableMessage(ValueError):
    """A row that no retry can fix (a recipient that is not one address, say)."""


def _one_line(value: str) -> str:
    return " ".join(value.splitlines()).strip()


def build_message(row: OutboxMessage) -> Message:
    """The mail for a row. Headers are single lines and the recipient exactly one valid
    address, whatever reached the row: nothing can add a header or a recipient."""
    try:
        recipient = normalise_email(row.recipient)
    except EmailNotValidError as error:
        raise UndeliverableMessage(f"invalid recipient: {error}") from error
    if recipient != row.recipient.strip().lower():
        raise UndeliverableMessage("recipient is not a single plain address")
    headers = {"Content-Language": _one_line(row.language), "Auto-Submitted": "auto-generated"}
    for line in (row.extra_headers or "").splitlines():
        name, _, value = line.partition(":")
        if name.strip() and value.strip():
            headers[_one_line(name)] = _one_line(value)
    message = Message(
        subject=_one_line(row.subject),
        recipients=[recipient],
        body=row.body_text,
        html=row.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers=headers,
    )
    message.msgId = row.message_id
    if row.ics:
        method = (row.ics_method or "PUBLISH").upper()
        message.attach(
            filename="einladung.ics" if method == "REQUEST" else "termine.ics",
            content_type=f"text/calendar; method={method}; charset=UTF-8",
            data=row.ics.encode(),
        )
    return message


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: up to 1, 2, 4 … minutes, capped at 6 hours."""
    ceiling = min(60 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not a secret


def _mark_sent(row: OutboxMessage, now: datetime) -> None:
    row.status = OutboxStatus.SENT
    row.sent_at = now
    row.lease_until = None
    row.last_error = ""


def _mark_failed(
    row: OutboxMessage, error: Exception, now: datetime, report: DeliveryReport
) -> None:
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    row.lease_until = None
    if row.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        row.status = OutboxStatus.DEAD
        report.dead += 1
    else:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now + retry_delay(row.attempts)
        report.failed += 1
    report.errors.append(row.last_error)
    log.warning("mail %s failed (attempt %s): %s", row.id, row.attempts, row.last_error)


def _mark_dead(row: OutboxMessage, error: Exception, report: DeliveryReport) -> None:
    row.status = OutboxStatus.DEAD
    row.lease_until = None
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    report.dead += 1
    report.errors.append(row.last_error)
    log.warning("mail %s cannot be delivered: %s", row.id, row.last_error)


def _send_batch(
    rows: list[OutboxMessage], transport: Transport, now: datetime, report: DeliveryReport
) -> None:
    for row in rows:
        try:
            transport.send(build_message(row))
        except (UndeliverableMessage, BadHeaderError) as error:
            _mark_dead(row, error, report)
        except smtplib.SMTPRecipientsRefused as error:
            permanent = all(code >= 500 for code, _ in error.recipients.values())
            if permanent:
                _mark_dead(row, error, report)
            else:
                _mark_failed(row, error, now, report)
        except (smtplib.SMTPException, OSError) as error:
            _mark_failed(row, error, now, report)
        else:
            _mark_sent(row, now)
            report.sent += 1
        db.session.commit()  # one row's outcome at a time: a crash loses at most one


def deliver_due(*, now: datetime, limit: int | None = None) -> DeliveryReport:
    """Send one batch of due mail over one connection and record each outcome."""
    report = DeliveryReport()
    rows = claim_due(now=now, limit=limit or current_app.config["OUTBOX_BATCH_SIZE"])
    if not rows:
        return report
    if not current_app.config.get("MAIL_SERVER"):
        _send_batch(rows, FileTransport(Path(current_app.config["MAIL_FILE_DIR"])), now, report)
        return report
    try:
        with mail.connect() as connection:
            _send_batch(rows, connection, now, report)
    except (smtplib.SMTPException, OSError) as error:
        # The server could not be reached (or dropped us): every row still claimed waits.
        for row in rows:
            if row.status == OutboxStatus.SENDING:
                _mark_failed(row, error, now, report)
        db.session.commit()
    return report


def status_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {str(status): count for status, count in rows}


def dead_messages(limit: int = 200) -> list[OutboxMessage]:
    return list(
        db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.DEAD)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        ).scalars()
    )


def retry_dead(*, now: datetime, message_id: int | None = None) -> int:
    """Give dead mail (one, or all) a fresh set of attempts, due at once."""
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, last_error="")
    )
    if message_id is not None:
        stmt = stmt.where(OutboxMessage.id == message_id)
    return db.session.execute(stmt).rowcount or 0
