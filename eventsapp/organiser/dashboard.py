"""What an organiser sees first: the next sessions, and a month at a glance."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from flask_login import current_user

from eventsapp.database import utcnow
from eventsapp.organiser import bp
from eventsapp.services import overview
from eventsapp.services import registrations as rules


@bp.get("/")
def dashboard():
    now = utcnow()
    sessions = overview.next_sessions(current_user, now=now)
    return render_template(
        "organiser/dashboard.html",
        sessions=sessions,
        counts=rules.seat_counts_for(sessions, now=now),
        formats=overview.managed_formats(current_user),
    )


@bp.get("/calendar")
def calendar():
    timezone = current_app.config["EVENTSAPP_TIMEZONE"]
    try:
        month = datetime.strptime(request.args.get("month", ""), "%Y-%m")
    except ValueError:
        month = utcnow().astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    if not 2000 <= month.year <= 2100:
        abort(404)
    weeks, by_day = overview.month_grid(current_user, month.year, month.month, timezone)
    first = month.replace(day=1)
    previous = (first - timedelta(days=1)).strftime("%Y-%m")
    following = (first + timedelta(days=32)).strftime("%Y-%m")
    return render_template(
        "organiser/calendar.html",
        weeks=weeks,
        by_day=by_day,
        month=first,
        previous=previous,
        following=following,
    )
