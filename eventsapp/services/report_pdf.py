"""A year's report as the page shows it and as a PDF for the steering group's minutes.

`context` gathers what both show: the tables, the charts (services/report_charts.py) and the
released topic suggestions with what became of them. `pdf` prints the report's own print
template with WeasyPrint. The PDF takes nothing from outside: its images are `data:`
addresses, any other address is refused, and its fonts are the machine's (DejaVu and Noto,
installed by `make`, cover Latin, Turkish, Cyrillic and Arabic).
"""

from __future__ import annotations

from datetime import date
from itertools import groupby

from flask import render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from eventsapp.feedback_items import DONT_KNOW, ITEMS, SESSION_ITEMS, STEPS, TRUST_ITEMS
from eventsapp.services import feedback, report_charts
from eventsapp.services import sessions as listing
from eventsapp.services.reports import Masked, YearReport
from eventsapp.services.sessions import Audience


def context(report: YearReport, *, audience: Audience | None = None) -> dict:
    """What page and PDF show; with `audience`, topics only of the dates it may see (the
    one visibility rule, services/sessions.py)."""
    quarters = report_charts.quarters_of(report.quarters, report.year)
    sessions = {s.id: s for group in report.groups for s in group.sessions}
    if audience is not None:
        shown = listing.visible_ids(audience, list(sessions))
        sessions = {session_id: s for session_id, s in sessions.items() if session_id in shown}
    topics = [
        (sessions[session_id], list(responses))
        for session_id, responses in groupby(
            feedback.released_topics(list(sessions)), key=lambda r: r.session_id
        )
    ]
    return dict(
        report=report,
        year=report.year,
        grouping=report.grouping,
        groups=report.groups,
        quarters=quarters,
        quarter_labels=[f"{report.year} Q{q}" for q in (1, 2, 3, 4)],
        total=report.total,
        items=ITEMS,
        item_names={item.key: str(item.short) for item in ITEMS},  # translated once
        trust_items=TRUST_ITEMS,
        session_items=SESSION_ITEMS,
        steps=(*STEPS, DONT_KNOW),
        threshold=feedback.THRESHOLD,
        masked=Masked(),
        charts=dict(
            participation=report_charts.participation(quarters, report.year),
            trust=report_charts.trend(quarters, report.year, TRUST_ITEMS),
            session=report_charts.trend(quarters, report.year, SESSION_ITEMS),
        ),
        topics=topics,
    )


def pdf(report: YearReport, *, today: date) -> bytes:
    """The report as a PDF, in the language of the request (or of force_locale)."""
    html = render_template(
        "organiser/report_print.html",
        **context(report),
        today=today,
        for_print=True,
        isolate=("\u2068", "\u2069"),  # FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE
    )
    # Images inside the document only: nothing from the network or the disk.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
