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
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from flask import current_app
from flask_mail import Connection
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from eventsapp.database import db, reading
from eventsapp.extensions import mail as flask_mail
from eventsapp.mail import mime, notifications
from eventsapp.mail.mime import Outgoing
from eventsapp.models import OutboxMessage, OutboxStatus
from eventsapp.services.emails import EmailNotValidError, normalise_email

log = logging.getLogger(__name__)

_OUTBOX = OutboxMessage.__table__


@dataclass
class DeliveryReport:
    rendered: int = 0  # deferred mails rendered (or found undeliverable) in this pass
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


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


def render_deferred(*, now: datetime, limit: int) -> int:
    """Render due registration mails that were queued unrendered; returns how many.

    The rendering reads in a transaction of its own that takes no write lock (SQLite), so
    web processes keep registering meanwhile; one short write stores the results. Two
    workers may render the same row at once: the first write wins, the second finds the row
    rendered already and changes nothing.
    """
    due = (
        select(
            OutboxMessage.id,
            OutboxMessage.deferred_template,
            OutboxMessage.registration_id,
            OutboxMessage.language,
            OutboxMessage.ics_method,
            OutboxMessage.attempts,
        )
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.deferred_template.is_not(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    results: dict[int, dict] = {}
    with reading():
        try:
            rows = db.session.execute(due).all()
        except SQLAlchemyError:
            db.session.rollback()
            raise
        for row in rows:
            try:
                rendered = notifications.render(
                    row.deferred_template, row.registration_id, row.language, row.ics_method
                )
            except SQLAlchemyError:
                # The database, not the mail: keep what is rendered, leave the rest (and
                # their attempts) for the next pass. On PostgreSQL the transaction is void.
                log.exception("rendering mail %s: database error; next pass", row.id)
                db.session.rollback()
                break
            except notifications.RegistrationGone as error:
                # Nothing to send any more; kept (still deferred) among the dead letters.
                results[row.id] = {"status": OutboxStatus.DEAD, "last_error": str(error)}
            except Exception as error:  # a broken template must not stop the other mail
                log.exception("mail %s could not be rendered", row.id)
                attempts = row.attempts + 1
                results[row.id] = {"attempts": attempts, "last_error": _error_text(error)}
                if attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
                    results[row.id]["status"] = OutboxStatus.DEAD
                else:
                    results[row.id]["next_attempt_at"] = now + retry_delay(attempts)
            else:
                results[row.id] = {
                    "subject": rendered.subject,
                    "body_text": rendered.body_text,
                    "body_html": rendered.body_html,
                    "ics": rendered.ics,
                    "deferred_template": None,
                }
        db.session.commit()  # ends the reading transaction (and keeps any caller's writes)
    for mail_id, values in results.items():
        db.session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == mail_id, _OUTBOX.c.deferred_template.is_not(None))
            .values(**values)
        )
    db.session.commit()
    return len(results)


def claim_due(*, now: datetime, limit: int) -> list[Outgoing]:
    """Claim up to `limit` due rows for this worker and commit the claim."""
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    stmt = (
        select(OutboxMessage)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.PENDING)
                & (OutboxMessage.next_attempt_at <= now)
                & OutboxMessage.deferred_template.is_(None),
                (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.lease_until < now),
            )
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(db.session.execute(stmt).scalars())
    claimed = []
    for row in rows:
        row.status = OutboxStatus.SENDING
        row.lease_until = now + lease
        row.attempts += 1
        claimed.append(
            Outgoing(
                id=row.id,
                recipient=row.recipient,
                language=row.language,
                subject=row.subject,
                body_text=row.body_text,
                body_html=row.body_html,
                ics=row.ics,
                ics_method=row.ics_method,
                extra_headers=row.extra_headers or "",
                message_id=row.message_id,
                attempts=row.attempts,
            )
        )
    db.session.commit()  # from here on the worker uses the plain data, never the rows
    return claimed


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


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: up to 1, 2, 4 … minutes, capped at 6 hours."""
    ceiling = min(60 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not a secret


def _record(mail_id: int, **values: object) -> None:
    # A plain table UPDATE: the worker holds no ORM rows that would need synchronising.
    db.session.execute(
        update(_OUTBOX).where(_OUTBOX.c.id == mail_id).values(lease_until=None, **values)
    )


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _mark_failed(mail: Outgoing, error: Exception, now: datetime, report: DeliveryReport) -> None:
    text = _error_text(error)
    if mail.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        _record(mail.id, status=OutboxStatus.DEAD, last_error=text)
        report.dead += 1
    else:
        _record(
            mail.id,
            status=OutboxStatus.PENDING,
            last_error=text,
            next_attempt_at=now + retry_delay(mail.attempts),
        )
        report.failed += 1
    report.errors.append(text)
    log.warning("mail %s failed (attempt %s): %s", mail.id, mail.attempts, text)


def _mark_dead(mail: Outgoing, error: Exception, report: DeliveryReport) -> None:
    text = _error_text(error)
    _record(mail.id, status=OutboxStatus.DEAD, last_error=text)
    report.dead += 1
    report.errors.append(text)
    log.warning("mail %s cannot be delivered: %s", mail.id, text)


def _send_batch(
    mails: list[Outgoing], transport: Transport, now: datetime, report: DeliveryReport
) -> None:
    for mail in mails:
        try:
            transport.send(mail.recipient, message_bytes(mail), mail.message_id)
        except UndeliverableMessage as error:
            _mark_dead(mail, error, report)
        except smtplib.SMTPRecipientsRefused as error:
            if all(code >= 500 for code, _ in error.recipients.values()):
                _mark_dead(mail, error, report)
            else:
                _mark_failed(mail, error, now, report)
        except (smtplib.SMTPException, OSError) as error:
            _mark_failed(mail, error, now, report)
        else:
            _record(mail.id, status=OutboxStatus.SENT, sent_at=now, last_error="")
            report.sent += 1
        db.session.commit()  # one mail's outcome at a time: a crash resends at most one


def deliver_due(*, now: datetime, limit: int | None = None) -> DeliveryReport:
    """Send one batch of due mail over one connection and record each outcome."""
    report = DeliveryReport()
    limit = limit or current_app.config["OUTBOX_BATCH_SIZE"]
    report.rendered = render_deferred(now=now, limit=limit)
    mails = claim_due(now=now, limit=limit)
    if not mails:
        return report
    if not current_app.config.get("MAIL_SERVER"):
        _send_batch(mails, FileTransport(Path(current_app.config["MAIL_FILE_DIR"])), now, report)
        return report
    try:
        with flask_mail.connect() as connection:
            sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
            _send_batch(mails, SMTPTransport(connection, sender), now, report)
    except (smtplib.SMTPException, OSError) as error:
        # The server could not be reached (or dropped us): every mail still claimed waits.
        still_claimed = set(
            db.session.execute(
                select(OutboxMessage.id).where(
                    OutboxMessage.id.in_([m.id for m in mails]),
                    OutboxMessage.status == OutboxStatus.SENDING,
                )
            ).scalars()
        )
        for outgoing in mails:
            if outgoing.id in still_claimed:
                _mark_failed(outgoing, error, now, report)
        db.session.commit()
    return report


def outbox_health(*, now: datetime) -> tuple[int, int]:
    """Mail waiting to go out, and the seconds the oldest due one has waited (0: none)."""
    waiting = (OutboxMessage.status == OutboxStatus.PENDING) | (
        OutboxMessage.status == OutboxStatus.SENDING
    )
    backlog, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.next_attempt_at)).where(waiting)
    ).one()
    if oldest is None:
        return backlog, 0
    if oldest.tzinfo is None:  # SQLite returns the aggregate without its column type
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return backlog, max(int((now - oldest).total_seconds()), 0)


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
