"""Admin: the outbox mail by mail, with a search by recipient, a state filter and retries.

The page shows addresses masked (`mask_address`): enough to recognise a mail someone asks
about, too little to copy a list of addresses off the screen. The full address never
reaches the template; error texts and subjects are masked the same way.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from eventsapp.admin import bp
from eventsapp.admin.forms import OUTBOX_STATES, OutboxFilterForm
from eventsapp.database import db, utcnow
from eventsapp.emails import mask_address
from eventsapp.forms import ActionForm
from eventsapp.logs import EMAIL
from eventsapp.mail import delivery
from eventsapp.models import OutboxStatus

log = logging.getLogger(__name__)

PER_PAGE = 50
SHORT_ERROR = 160  # characters of the last error shown in the list
_LARGEST_ID = 2**31 - 1  # an id beyond the column's range is no mail (and no query)
_OTHER_AT = re.compile("\uff20|%40")  # "@" as EMAIL also finds it (full-width, from a URL)


def mask_addresses_in(text: str) -> str:
    """`text` with every address in it masked (SMTP errors quote the recipient)."""
    return EMAIL.sub(lambda match: mask_address(_OTHER_AT.sub("@", match.group())), text)


def _short(text: str, limit: int = SHORT_ERROR) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class ListedMail:
    """A row of the list as the template may see it: nothing unmasked."""

    id: int
    recipient: str  # masked; '' once the mail was emptied for privacy
    what: str  # the template's name while not rendered yet, else the subject
    deferred: bool
    status: str
    attempts: int
    error: str  # short, addresses masked
    created_at: datetime
    next_attempt_at: datetime | None  # only while it waits for an attempt
    purged: bool

    @classmethod
    def of(cls, row) -> ListedMail:
        return cls(
            id=row.id,
            recipient=mask_address(row.recipient),
            what=row.deferred_template or mask_addresses_in(row.subject),
            deferred=bool(row.deferred_template),
            status=str(row.status),
            attempts=row.attempts,
            error=mask_addresses_in(_short(row.last_error or "")),
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at if row.status == OutboxStatus.PENDING else None,
            purged=row.purged_at is not None,
        )


def _kept(form: OutboxFilterForm, page: int) -> dict[str, str | int]:
    """The search, filter and page to keep in links and after a retry (valid ones only)."""
    kept: dict[str, str | int] = {"q": form.q.data or "", "status": form.status.data or ""}
    kept["page"] = page if page > 1 else ""
    return {name: value for name, value in kept.items() if value}


def _page_number(values: MultiDict) -> int:
    return values.get("page", 1, type=int) or 1


@bp.get("/outbox")
def outbox():
    """Every mail, newest first, page by page; how many are in each state."""
    form = OutboxFilterForm(request.args)
    context = {
        "counts": delivery.status_counts(),
        "states": OUTBOX_STATES,
        "form": form,
        "action_form": ActionForm(),
        "timezone": current_app.config["EVENTSAPP_TIMEZONE"],
    }
    if not form.validate():
        return render_template("admin/outbox.html", mails=None, here={}, **context), 422
    total, page, rows = delivery.outbox_page(
        status=OutboxStatus(form.status.data) if form.status.data else None,
        recipient=form.q.data or "",
        page=_page_number(request.args),
        per_page=PER_PAGE,
    )
    return render_template(
        "admin/outbox.html",
        mails=[ListedMail.of(row) for row in rows],
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        kept=_kept(form, 1),
        here=_kept(form, page),
        **context,
    )


@bp.post("/outbox/retry")
def outbox_retry():
    """Retry one dead mail (`message`) or all; back to the list as the admin had it."""
    if not ActionForm().validate_on_submit():
        abort(400)
    message_id = None
    if "message" in request.form:
        message_id = request.form.get("message", type=int)
        if message_id is None or not 0 < message_id <= _LARGEST_ID:
            abort(400)  # not "all": a broken form must not retry every dead mail
    count = delivery.retry_dead(now=utcnow(), message_id=message_id)
    db.session.commit()
    log.info("account %s retried %d dead mail(s)", current_user.id, count)
    flash(
        ngettext(
            "%(num)d E-Mail wird erneut versucht.", "%(num)d E-Mails werden erneut versucht.", count
        ),
        "success",
    )
    form = OutboxFilterForm(request.form)
    kept = _kept(form, _page_number(request.form)) if form.validate() else {}
    return redirect(url_for("admin.outbox", **kept), 303)
