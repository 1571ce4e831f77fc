"""Queueing mail: render it in the recipient's language and add an outbox row."""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid
from typing import Any

from flask import render_template
from flask_babel import LazyString, force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from eventsapp.database import db
from eventsapp.models import OutboxMessage
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
    """
    exists = db.session.execute(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ).first()
    if exists:
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
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        # Another transaction queued the same mail meanwhile (two workers running the same
        # job): theirs counts, and this transaction goes on without a second copy.
        return None
    return message
