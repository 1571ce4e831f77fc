"""Queueing mail: an outbox row, rendered in the recipient's language now or by the worker."""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid
from typing import Any

from flask import render_template
from flask_babel import LazyString, force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from eventsapp.database import core_connection, db
from eventsapp.models import OutboxMessage
from eventsapp.models.registration import NO_ADDRESS
from eventsapp.urls import base_host


def enqueue_mail(
    *,
    dedupe_key: str,
    recipient: str,
    language: str,
    template: str,
    subject: str | LazyString,
    context: dict[str, Any],
    now: datetime,
    ics: str | None = None,
    ics_method: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutboxMessage | None:
    """Queue one mail unless a mail with the same dedupe key exists already.

    `template` names `templates/mail/<template>.txt` and `.html`; `subject` is best given
    with `lazy_gettext`, so that it is translated here, in the recipient's language.
    Nothing is committed: the row lands with the caller's transaction or not at all.
    A walk-in who gave no address gets nothing.
    """
    if recipient.endswith(NO_ADDRESS) or _exists(dedupe_key):
        return None
    with force_locale(language):
        subject = str(subject)
        body_text = render_template(f"mail/{template}.txt", **context)
        body_html = render_template(f"mail/{template}.html", subject=subject, **context)
    message = OutboxMessage(
        recipient=recipient,
        language=language,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        dedupe_key=dedupe_key,
        ics=ics,
        ics_method=ics_method,
        extra_headers="\n".join(f"{name}: {value}" for name, value in (headers or {}).items()),
        message_id=make_msgid(idstring="eventsapp", domain=base_host()),
        created_at=now,
        next_attempt_at=now,
    )
    return _insert(message)


def enqueue_deferred(
    *,
    dedupe_key: str,
    recipient: str,
    language: str,
    template: str,
    registration_id: int,
    now: datetime,
    ics_method: str | None = None,
    new_key: bool = False,
    context: dict | None = None,
) -> None:
    """Queue a registration mail that the worker renders just before sending.

    Rendering (two templates and an invitation) is most of what queueing a mail costs; left
    to the worker, it stays out of the request and out of the seat lock. `new_key`: the key
    names a registration created in this very transaction, so no copy can exist yet, and
    the row is written at once, in one prepared statement.
    """
    if recipient.endswith(NO_ADDRESS):
        return  # a walk-in who gave no address
    if not new_key and _exists(dedupe_key):
        return
    values = {
        "recipient": recipient,
        "language": language,
        "subject": "",
        "body_text": "",
        "dedupe_key": dedupe_key,
        "ics_method": ics_method,
        "deferred_template": template,
        "registration_id": registration_id,
        "context": context,
        "extra_headers": "",
        "message_id": make_msgid(idstring="eventsapp", domain=base_host()),
        "created_at": now,
        "next_attempt_at": now,
    }
    if new_key:
        core_connection(writes=True).execute(_INSERT_MESSAGE, values)
    else:
        _insert(OutboxMessage(**values))


def queue_about(
    registration: Any,
    event: str,
    template: str,
    now: datetime,
    ics_method: str | None = None,
    *,
    new_key: bool = False,
    context: dict | None = None,
) -> None:
    """Queue the mail `template` about a registration (anything with `id`, `email` and
    `language`), once per `event`; `ics_method` (REQUEST or CANCEL) attaches the calendar
    entry; `context` is what the mail must know of this moment (see OutboxMessage.context).
    Which mail a change gets is decided by the service that makes the change."""
    enqueue_deferred(
        dedupe_key=f"registration:{registration.id}:{event}",
        recipient=registration.email,
        language=registration.language,
        template=template,
        registration_id=registration.id,
        now=now,
        ics_method=ics_method,
        new_key=new_key,
        context=context,
    )


_INSERT_MESSAGE = OutboxMessage.__table__.insert()


def _exists(dedupe_key: str) -> bool:
    return (
        db.session.execute(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        ).first()
        is not None
    )


def _insert(message: OutboxMessage) -> OutboxMessage | None:
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        # Another transaction queued the same mail meanwhile (two workers running the same
        # job): theirs counts, and this transaction goes on without a second copy.
        return None
    return message
