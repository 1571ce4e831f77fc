"""A small read-only JSON API: the sessions a visitor may see, and the reports for
signed-in organisers."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time

from flask import Response, current_app, request
from flask_login import current_user
from sqlalchemy.orm import joinedload

from eventsapp.api import bp
from eventsapp.database import db, utcnow
from eventsapp.errors import json_error
from eventsapp.models import Format, Organisation, Session, SessionStatus
from eventsapp.pagecache import cached_for_visitors, valid_until
from eventsapp.services import sessions as listing
from eventsapp.services.recurrence import EARLIEST_DAY, LATEST_DAY, RecurrenceError, local_to_utc
from eventsapp.services.registrations import seat_counts_for
from eventsapp.services.report_exports import report_json
from eventsapp.services.reports import FIRST_YEAR, Grouping, format_scope, year_report
from eventsapp.urls import external_url

DAY_MESSAGE = f"from and to must be dates as YYYY-MM-DD from {EARLIEST_DAY} to {LATEST_DAY}"


def _day(name: str) -> date | None:
    value = request.args.get(name)
    if value is None:
        return None
    return date.fromisoformat(value)  # ValueError for anything but an ISO date


@bp.get("/sessions")
@cached_for_visitors(query=("format", "organisation", "from", "to"))
def sessions():
    """GET /api/v1/sessions?format=SLUG&organisation=SLUG&from=YYYY-MM-DD&to=YYYY-MM-DD"""
    now = utcnow()
    viewer = current_user if current_user.is_authenticated else None
    zone = current_app.config["EVENTSAPP_TIMEZONE"]
    try:  # local_to_utc refuses days it cannot place (from=0001-01-01 is in the year 0 UTC)
        first, last = _day("from"), _day("to")
        start = local_to_utc(datetime.combine(first, time(0)), zone) if first else now
        end = local_to_utc(datetime.combine(last, time(23, 59)), zone) if last else None
    except (ValueError, RecurrenceError):
        return json_error(DAY_MESSAGE, 400)
    stmt = (
        listing.visible_sessions(listing.audience_of(viewer))
        .where(Session.ends_at > start)
        .options(joinedload(Session.format), joinedload(Session.host_organisation))
    )
    if end is not None:
        stmt = stmt.where(Session.starts_at <= end)
    if slug := request.args.get("format"):
        stmt = stmt.where(Format.slug == slug)
    if slug := request.args.get("organisation"):
        stmt = stmt.join(Organisation, Session.host_organisation_id == Organisation.id).where(
            Organisation.slug == slug
        )
    rows = list(db.session.execute(stmt.order_by(Session.starts_at, Session.id)).scalars())
    counts = seat_counts_for(rows, now=now)
    valid_until(*(s.ends_at for s in rows))
    payload = [
        {
            "id": s.id,
            "format": s.format.slug,
            "title": s.format.title,
            "starts_at": s.local_start.isoformat(),
            "ends_at": s.local_end.isoformat(),
            "timezone": s.timezone,
            "venue": {"name": s.venue_name, "address": s.venue_address},
            "host": s.host_organisation.slug,
            "status": s.status.value,
            "capacity": s.capacity,
            "seats_left": counts[s.id].left if s.status == SessionStatus.PUBLISHED else 0,
            "waitlist": counts[s.id].waitlisted,
            "url": external_url("public.session_detail", session_id=s.id),
            "ics_url": external_url("feeds.session_download", session_id=s.id),
        }
        for s in rows
    ]
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = "private, no-cache" if viewer else "public, no-cache"
    response.headers["Vary"] = "Cookie"
    return response.make_conditional(request)


@bp.get("/reports")
def reports():
    """GET /api/v1/reports?year=YYYY&group=session|format|host|quarter|year

    The report of the reports page as JSON, for signed-in organisers (their formats) and
    admins (the programme); figures on fewer than five responses read "fewer than 5"."""
    if not current_user.is_authenticated:
        return json_error("sign in as an organiser to read reports", 401)
    if not current_user.is_organiser:
        return json_error("reports are for organisers and admins", 403)
    now = utcnow()
    try:
        year = int(request.args.get("year", now.year))
        grouping = Grouping(request.args.get("group", Grouping.FORMAT))
    except ValueError:
        return json_error("year must be a year and group one of " + ", ".join(Grouping), 400)
    if not FIRST_YEAR <= year <= now.year:
        return json_error(f"year must be from {FIRST_YEAR} to {now.year}", 400)
    report = year_report(
        year,
        grouping,
        zone=current_app.config["EVENTSAPP_TIMEZONE"],
        now=now,
        format_ids=format_scope(current_user),
    )
    response = Response(
        json.dumps(report_json(report), ensure_ascii=False, separators=(",", ":")),
        mimetype="application/json",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
