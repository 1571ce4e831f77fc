"""Delivering the outbox: claim a due row, send it, record the outcome; one mail at a time.

A pass lists up to OUTBOX_BATCH_SIZE due rows and goes through them over one connection.
Each row is claimed just before it is sent (status "sending", a random claim token and a
lease of OUTBOX_LEASE_SECONDS), and its outcome is committed together with the claim of the
next row. So a lease only has to outlast one send: a lease set once for a whole batch ran
out while the batch was still going out, and a second worker sent its tail again. An outcome
is recorded only under the claim token the worker holds: a worker that stalled past its
lease and lost the mail to another records nothing. Told to stop, a pass finishes the mail
in hand and claims no more, so it leaves nothing "sending".

Delivery stays at-least-once: a worker killed mid-send leaves its one row "sending", and
after the lease another worker sends it again with the same Message-ID (as it does when one
send outlasts the lease). On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so workers never
wait for each other's rows; on SQLite a claim runs under the database write lock.
"""

from __future__ import annotations

import logging
import random
import secrets
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from eventsapp.database import db, reading
from eventsapp.mail import notifications
from eventsapp.mail.mime import Outgoing
from eventsapp.mail.transport import Transport, UndeliverableMessage, message_bytes, open_transport
from eventsapp.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

_OUTBOX = OutboxMessage.__table__


@dataclass
class DeliveryReport:
    rendered: int = 0  # deferred mails rendered (or found undeliverable) in this pass
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


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
            OutboxMessage.context,
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
                rendered = notifications.render(*row[1:6])
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
                    "checkin_code": rendered.checkin_code,
                    "extra_headers": rendered.headers,
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


_OUTGOING = [f.name for f in fields(Outgoing)]  # the columns a claim reads


@dataclass(frozen=True)
class ClaimedMail(Outgoing):
    """An outbox row this worker has claimed: `claim` is the token its outcome is recorded
    under (`record`)."""

    claim: str


# Claimable: due and nobody's, i.e. pending and due, or "sending" under a lease that ran out.
# The statements a claim runs are built once (they run for every mail), bound to `now`.
_CLAIMABLE = or_(
    (_OUTBOX.c.status == OutboxStatus.PENDING)
    & (_OUTBOX.c.next_attempt_at <= bindparam("now"))
    & _OUTBOX.c.deferred_template.is_(None),
    (_OUTBOX.c.status == OutboxStatus.SENDING) & (_OUTBOX.c.lease_until < bindparam("now")),
)
_DUE_ORDER = (_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
# A claim in one statement: the first still claimable of the listed rows (`ids`), locked,
# skipping rows other workers hold (FOR UPDATE SKIP LOCKED; SQLite has its write lock),
# becomes "sending" under a fresh token and lease; it counts an attempt.
_CLAIM = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id
        == select(_OUTBOX.c.id)
        .where(_CLAIMABLE, _OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
        .order_by(*_DUE_ORDER)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    .values(
        status=OutboxStatus.SENDING,
        claim_token=bindparam("token"),
        lease_until=bindparam("lease"),
        attempts=_OUTBOX.c.attempts + 1,
    )
    .returning(*(_OUTBOX.c[name] for name in _OUTGOING))
)


# An outcome is written only where the claim is still this worker's (`record`).
_RECORD = update(_OUTBOX).where(
    _OUTBOX.c.id == bindparam("mail_id"),
    _OUTBOX.c.status == OutboxStatus.SENDING,
    _OUTBOX.c.claim_token == bindparam("claim"),
)


def _due_ids(now: datetime, limit: int) -> list[int]:
    """The ids of up to `limit` claimable rows, oldest due first; read, not claimed.

    A pass claims from this list one row at a time (`_claim_next`): finding the due rows
    means reading and ordering all of them, once a pass rather than once a mail.
    """
    stmt = select(_OUTBOX.c.id).where(_CLAIMABLE).order_by(*_DUE_ORDER).limit(limit)
    return list(db.session.execute(stmt, {"now": now}).scalars())


def _claim_next(now: datetime, due: list[int]) -> ClaimedMail | None:
    """Claim the first row of `due` that is still claimable (another worker may have taken
    some meanwhile) and take it off the list; not committed. Until the lease, from `now`,
    runs out, no other worker takes the row."""
    if not due:
        return None
    token = secrets.token_hex(16)
    lease = now + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    params = {"now": now, "ids": due, "token": token, "lease": lease}
    row = db.session.execute(_CLAIM, params).one_or_none()
    if row is None:
        return None
    due.remove(row.id)
    return ClaimedMail(**row._mapping, claim=token)


def claim_due(*, now: datetime, limit: int) -> list[ClaimedMail]:
    """Claim up to `limit` due rows for this worker and commit the claims.

    The worker claims one row at a time as it sends (`deliver_due`); this is for tools and
    tests that hold claims without sending.
    """
    due = _due_ids(now, limit)
    claimed = []
    while (mail := _claim_next(now, due)) is not None:
        claimed.append(mail)
    db.session.commit()  # from here on the worker uses the plain data, never the rows
    return claimed


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: up to 1, 2, 4 … minutes, capped at 6 hours."""
    ceiling = min(60 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not a secret


def record(mail: ClaimedMail, **values: object) -> bool:
    """Write a claimed mail's outcome, unless the claim is no longer this worker's.

    The row must still be "sending" under this worker's token: if the lease ran out and
    another worker took the mail over, that worker records it, and this late outcome is
    dropped (False) rather than overwriting it or being counted twice. Not committed.
    """
    result = db.session.execute(
        _RECORD.values(claim_token=None, lease_until=None, **values),
        {"mail_id": mail.id, "claim": mail.claim},
    )
    if result.rowcount == 1:
        return True
    log.warning("mail %s: the lease ran out and another worker took it over; not recorded", mail.id)
    return False


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _mark_failed(
    mail: ClaimedMail, error: Exception, now: datetime, report: DeliveryReport
) -> None:
    text = _error_text(error)
    if mail.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        if record(mail, status=OutboxStatus.DEAD, last_error=text):
            report.dead += 1
    elif record(
        mail,
        status=OutboxStatus.PENDING,
        last_error=text,
        next_attempt_at=now + retry_delay(mail.attempts),
    ):
        report.failed += 1
    report.errors.append(text)
    log.warning("mail %s failed (attempt %s): %s", mail.id, mail.attempts, text)


def _mark_dead(mail: ClaimedMail, error: Exception, report: DeliveryReport) -> None:
    text = _error_text(error)
    if record(mail, status=OutboxStatus.DEAD, last_error=text):
        report.dead += 1
    report.errors.append(text)
    log.warning("mail %s cannot be delivered: %s", mail.id, text)


def _send_one(
    mail: ClaimedMail, transport: Transport, now: datetime, report: DeliveryReport
) -> bool:
    """Send one claimed mail and record its outcome (not committed). False when the
    connection is gone, so that the pass ends instead of failing every mail after it."""
    try:
        transport.send(mail.recipient, message_bytes(mail), mail.message_id)
    except UndeliverableMessage as error:
        _mark_dead(mail, error, report)
    except smtplib.SMTPRecipientsRefused as error:
        if all(code >= 500 for code, _ in error.recipients.values()):
            _mark_dead(mail, error, report)
        else:
            _mark_failed(mail, error, now, report)
    except (smtplib.SMTPServerDisconnected, OSError) as error:
        _mark_failed(mail, error, now, report)
        return False
    except smtplib.SMTPException as error:
        _mark_failed(mail, error, now, report)
    else:
        if record(mail, status=OutboxStatus.SENT, sent_at=now, last_error=""):
            report.sent += 1
    return True


def _clock(start: datetime) -> Callable[[], datetime]:
    """`start` moved on by the time that has passed since. Leases, `sent_at` and retry
    times count from the moment of each claim or outcome, not from the start of a pass that
    may take longer than a lease; callers (tests) still choose the time a pass starts at."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def _never() -> bool:
    return False


def deliver_due(
    *, now: datetime, limit: int | None = None, stop: Callable[[], bool] = _never
) -> DeliveryReport:
    """Send up to `limit` due mails over one connection, claiming one at a time.

    Each mail's outcome is committed together with the claim of the next one: a crash
    leaves at most one row "sending" (taken over after its lease), and a lease only ever
    has to cover one send. `stop` is asked before each further claim; once it says yes the
    pass ends with the mail in hand sent and recorded, and nothing claimed.
    """
    report = DeliveryReport()
    limit = limit or current_app.config["OUTBOX_BATCH_SIZE"]
    report.rendered = render_deferred(now=now, limit=limit)
    clock = _clock(now)
    due = [] if stop() else _due_ids(clock(), limit)
    mail = _claim_next(clock(), due)
    db.session.commit()
    try:
        with open_transport() as transport:
            while mail is not None:
                connected = _send_one(mail, transport, clock(), report)
                mail = _claim_next(clock(), due) if connected and not stop() else None
                db.session.commit()  # this mail's outcome and the next claim, together
    except (smtplib.SMTPException, OSError) as error:
        # The server could not be reached: this pass's mail waits for its next attempt, as
        # a batch did before. (Raised by QUIT at the end of a pass, there is no mail left.)
        while mail is not None:
            _mark_failed(mail, error, clock(), report)
            mail = _claim_next(clock(), due)
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


# What the admin's list reads of a mail: everything but the bodies (large, nobody's business).
_LISTED = [c for c in _OUTBOX.c if c.name not in ("body_text", "body_html", "ics")]


def outbox_page(
    *, status: OutboxStatus | None, recipient: str, page: int, per_page: int
) -> tuple[int, int, list]:
    """Mail newest first (ids count up as mail is queued), one page: how many match, the
    page shown (moved into range) and its rows. `recipient` matches any part of the
    address, case-insensitively, with `%` and `_` taken literally."""
    where = [OutboxMessage.status == status] if status else []
    if recipient:
        where.append(OutboxMessage.recipient.icontains(recipient.lower(), autoescape=True))
    total = db.session.execute(select(func.count(OutboxMessage.id)).where(*where)).scalar_one()
    page = min(max(page, 1), max(1, -(-total // per_page)))
    rows = db.session.execute(
        select(*_LISTED)
        .where(*where)
        .order_by(OutboxMessage.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return total, page, list(rows)


def retry_dead(*, now: datetime, message_id: int | None = None) -> int:
    """Give dead mail (one, or all) a fresh set of attempts, due at once. Mail emptied for
    privacy (`purged_at`: no address, no text left) stays dead."""
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD, OutboxMessage.purged_at.is_(None))
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, last_error="")
    )
    if message_id is not None:
        stmt = stmt.where(OutboxMessage.id == message_id)
    return db.session.execute(stmt).rowcount or 0
