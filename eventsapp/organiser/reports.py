"""What the dates achieved, for the steering group: participation and feedback figures of
a year, grouped by date, format, host, quarter or the whole year (services/reports.py),
with charts, the topics people suggested and what became of them, as CSV and as PDF.
Admins see the whole programme, organisers the formats their organisation hosts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, request
from flask_login import current_user

from eventsapp.database import utcnow
from eventsapp.organiser import bp
from eventsapp.services import report_exports, report_pdf, reports
from eventsapp.services.reports import FIRST_YEAR, Grouping


def _grouping() -> Grouping:
    try:
        return Grouping(request.args.get("group", Grouping.FORMAT))
    except ValueError:
        return Grouping.FORMAT


def year_report(now: datetime) -> reports.YearReport:
    """The year and grouping asked for, of the dates this user may see: admins the whole
    programme, organisers the formats their organisation hosts."""
    return reports.year_report(
        reports.year_or_current(request.args.get("year"), now=now),
        _grouping(),
        zone=current_app.config["EVENTSAPP_TIMEZONE"],
        now=now,
        format_ids=reports.format_scope(current_user),
    )


def _filename(report: reports.YearReport, kind: str, suffix: str) -> str:
    return f"bericht-{kind}-{report.year}-{report.grouping}.{suffix}"


@bp.get("/reports")
def reports_page():
    now = utcnow()
    report = year_report(now)
    return render_template(
        "organiser/reports.html",
        years=range(now.year, FIRST_YEAR - 1, -1),
        groupings=list(Grouping),
        **report_pdf.context(report),
    )


@bp.get("/reports/<any(participation, feedback, partners):table>.csv")
def reports_csv(table: str):
    report = year_report(utcnow())
    if table == "partners":
        body = report_exports.partners_csv(report)
    elif table == "participation":
        body = report_exports.participation_csv(report.groups, report.grouping)
    else:
        body = report_exports.feedback_csv(report.groups, report.grouping)
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(report, table, "csv")}"'
        },
    )


@bp.get("/reports.pdf")
def reports_pdf():
    now = utcnow()
    report = year_report(now)
    zone = ZoneInfo(current_app.config["EVENTSAPP_TIMEZONE"])
    return Response(
        report_pdf.pdf(report, today=now.astimezone(zone).date()),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(report, "jahr", "pdf")}"'
        },
    )
