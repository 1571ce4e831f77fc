"""The door: the check-in page (by code, camera or name, also offline), walk-ins and the
printable list.

Without script the page works with forms: a code typed in, a button per person, a search.
With script (eventsapp/static/checkin.js) it keeps the session's list on the device, checks
people in without the network and sends the check-ins when the network is back (`sync`).
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from eventsapp.access import managed_session_or_404
from eventsapp.acknowledgements import acknowledge, back_to
from eventsapp.database import db, utcnow
from eventsapp.formatting import local_time
from eventsapp.forms import ActionForm
from eventsapp.models import Session
from eventsapp.organiser import bp
from eventsapp.organiser.forms import CheckinCodeForm, WalkInForm
from eventsapp.services import checkin as door
from eventsapp.services import participants

MOST_PER_SYNC = 1000


def _render(session: Session, *, code_form=None, walk_in_form=None, status: int = 200):
    query = (request.args.get("q") or "").strip()[:100]
    everyone = participants.checkin_list(session)
    return render_template(
        "organiser/checkin.html",
        session=session,
        arrivals=participants.arrivals_matching(everyone, query) if query else everyone,
        query=query,
        total=len(everyone),
        present=sum(1 for a in everyone if a.registration.attended),
        action_form=ActionForm(),
        code_form=code_form or CheckinCodeForm(),
        walk_in_form=walk_in_form or WalkInForm(),
        door_open=door.door_open(session, now=utcnow()),
        clear_after=session.ends_at + door.KEEP_AFTER_END,
    ), status


@bp.get("/sessions/<int:session_id>/checkin")
def checkin(session_id: int):
    session = managed_session_or_404(session_id)
    page, status = _render(session)
    response = make_response(page, status)
    if door.door_open(session, now=utcnow()):
        response.headers["X-Offline-Copy"] = "keep"  # checkin-sw.js may keep this page
    return response


def _outcome_message(outcome: door.Outcome, session: Session) -> tuple[str, str]:
    """The result as the door reads it, and its colour: green, amber or red."""
    if outcome.kind == "checked-in":
        return _("Eingecheckt: %(name)s", name=outcome.registration.name), "ok"
    if outcome.kind == "already":
        return _(
            "Schon eingecheckt um %(time)s: %(name)s",
            time=local_time(outcome.at, session.timezone),
            name=outcome.registration.name,
        ), "already"
    return _("Dieser Code gehört zu keiner Anmeldung für diesen Termin."), "unknown"


@bp.post("/sessions/<int:session_id>/checkin/code")
def checkin_by_code(session_id: int):
    session = managed_session_or_404(session_id)
    form = CheckinCodeForm()
    if not form.validate_on_submit():
        return _render(session, code_form=form, status=422)
    if not door.door_open(session, now=utcnow()):
        abort(409)
    outcome = door.by_code(session, form.code.data, now=utcnow())
    db.session.commit()
    message, kind = _outcome_message(outcome, session)
    acknowledge(message, "door", kind)
    return back_to(url_for("organiser.checkin", session_id=session.id), "door")


@bp.post("/sessions/<int:session_id>/checkin/walk-in")
def checkin_walk_in(session_id: int):
    session = managed_session_or_404(session_id)
    form = WalkInForm()
    if not form.validate_on_submit():
        return _render(session, walk_in_form=form, status=422)
    if not door.door_open(session, now=utcnow()):
        abort(409)
    try:
        person = door.add_walk_in(session, form.name.data, form.email.data or None, now=utcnow())
    except door.CheckinError as error:
        db.session.rollback()
        messages = {
            "already": _("Diese E-Mail-Adresse ist für diesen Termin schon angemeldet."),
            "full": _("Es ist kein Platz frei: Die Person kann nicht eingelassen werden."),
            "closed": _("Für diesen Termin sind keine Anmeldungen mehr möglich."),
        }
        target = form.email if error.field == "email" else form.name
        target.errors = [messages[error.message]]
        return _render(session, walk_in_form=form, status=409)
    db.session.commit()
    acknowledge(_("Eingecheckt: %(name)s", name=person.name), "door", "ok")
    return back_to(url_for("organiser.checkin", session_id=session.id), "door")


def _list_payload(session: Session) -> dict:
    return {
        "people": door.offline_list(session),
        "csrf": generate_csrf(),
        "clearAfter": (session.ends_at + door.KEEP_AFTER_END).isoformat(),
    }


@bp.get("/sessions/<int:session_id>/checkin/list.json")
def checkin_list(session_id: int):
    """The list the page keeps on the device (and a fresh CSRF token for `sync`)."""
    response = jsonify(_list_payload(managed_session_or_404(session_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _entries(data: object) -> list[tuple[int, datetime]] | None:
    """The check-ins of a sync request, or None when it is not what the page sends."""
    items = data.get("checkins") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) > MOST_PER_SYNC:
        return None
    entries = []
    for item in items:
        try:
            registration_id = int(item["id"])
            at = datetime.fromisoformat(str(item["at"]).replace("Z", "+00:00"))
        except (KeyError, TypeError, ValueError):
            return None
        if at.tzinfo is None:
            return None
        entries.append((registration_id, at))
    return entries


@bp.post("/sessions/<int:session_id>/checkin/sync")
def checkin_sync(session_id: int):
    """Check-ins made on a device, perhaps offline, in one request; the same person twice
    (or from two devices) counts once, the earliest time wins. Answers with the list."""
    session = managed_session_or_404(session_id)
    entries = _entries(request.get_json(silent=True))
    if entries is None:
        abort(400)
    if entries and not door.door_open(session, now=utcnow()):
        abort(409)
    door.sync(session, entries, now=utcnow())
    db.session.commit()
    response = jsonify(_list_payload(session))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sessions/<int:session_id>/checkin/print")
def checkin_print(session_id: int):
    """The paper fallback: the list in alphabetical order with a box to tick, and lines for
    people who come without a registration."""
    session = managed_session_or_404(session_id)
    return render_template(
        "organiser/checkin_print.html",
        session=session,
        arrivals=participants.checkin_list(session),
        walk_in_lines=range(max(5, min(session.capacity // 5, 20))),
    )


@bp.get("/checkin-sw.js")
def checkin_service_worker():
    """The service worker that keeps the check-in page and its script for offline use. It
    is served from here so that its scope can cover the sessions' pages."""
    response: Response = current_app.send_static_file("checkin-sw.js")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    return response
