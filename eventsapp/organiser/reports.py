"""What the dates achieved, for the steering group: participation and feedback figures of
a year, grouped by date, format, host, quarter or the whole year (services/reports.py).
Admins see the whole programme, organisers the formats their organisation hosts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, request
from flask_login import current_user

from eventsapp.database import utcnow
from eventsapp.feedback_items import ITEMS
from eventsapp.organiser import bp
from eventsapp.services import overview, report_exports, reports
from eventsapp.services.reports import Grouping

FIRST_YEAR = 2024


def _year(now: datetime) -> int:
    """The year asked for, else the current one; out of range falls back to it too."""
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return now.year
    return year if FIRST_YEAR <= year <= now.year else now.year


def _grouping() -> Grouping:
    try:
        return Grouping(request.args.get("group", Grouping.FORMAT))
    except ValueError:
        return Grouping.FORMAT


def _groups(now: datetime) -> tuple[int, Grouping, list[reports.Group]]:
    """The year and grouping asked for, and the groups of the dates this user may see:
    admins the whole programme, organisers the formats their organisation hosts."""
    year = _year(now)
    grouping = _grouping()
    zone = ZoneInfo(current_app.config["EVENTSAPP_TIMEZONE"])
    start = datetime(year, 1, 1, tzinfo=zone)
    own = None if current_user.is_admin else [f.id for f in overview.managed_formats(current_user)]
    sessions = reports.sessions_in(start, start.replace(year=year + 1), format_ids=own)
    return year, grouping, reports.report(sessions, grouping, now=now)


@bp.get("/reports")
def reports_page():
    now = utcnow()
    year, grouping, groups = _groups(now)
    return render_template(
        "organiser/reports.html",
        year=year,
        years=range(now.year, FIRST_YEAR - 1, -1),
        grouping=grouping,
        groupings=list(Grouping),
        groups=groups,
        items=ITEMS,
        threshold=reports.THRESHOLD,
    )


@bp.get("/reports/<any(participation, feedback):table>.csv")
def reports_csv(table: str):
    year, grouping, groups = _groups(utcnow())
    build = (
        report_exports.participation_csv
        if table == "participation"
        else report_exports.feedback_csv
    )
    filename = f"bericht-{table}-{year}-{grouping}.csv"
    return Response(
        build(groups, grouping),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
