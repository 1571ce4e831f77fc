"""A service's refusal lands under the input it is about, in the organiser's real forms.

Services raise errors that name a field (`RecurrenceError.field`). These tests post the
back-office forms over HTTP and read the answer as a screen reader would: the input the
error belongs to is marked invalid and points at the message with aria-describedby, and
the message sits in that input's wrapper. Nothing is written, and the answer is a form
error, never a 500.

Some refusals cannot be reached through a form that works: the form refuses the same input
first (an end before the start, no draft chosen) or offers no way to enter it (a host as a
contingent's partner). Those tests lift the form's own check, so the service's check behind
it is the one that answers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.forms import RequiredWhen
from eventsapp.models import Session, SessionStatus
from eventsapp.organiser.forms import PublishForm, SessionForm
from eventsapp.services import overview
from eventsapp.services import registrations as rules
from tests.conftest import csrf_token
from tests.factories import applicant, make_session

# The night clocks go forward in Europe/Berlin: 02:00 to 03:00 does not exist.
SPRING_FORWARD = date(2027, 3, 28)
FALL_BACK = date(2027, 10, 31)  # 02:00-02:59 happens twice in Berlin


def _database(app) -> dict[str, list[tuple]]:
    """Every row of every table, to show that a refused form wrote nothing."""
    with app.app_context():
        return {
            table.name: [
                tuple(row)
                for row in db.session.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).all()
            ]
            for table in db.metadata.sorted_tables
        }


def _form(body: str, action: str | None) -> str:
    """The HTML of the form posting to `action` (None: the page's form without an action)."""
    if action:
        opening = rf'<form method="post" action="{re.escape(action)}"'
    else:
        opening = r'<form method="post"(?![^>]*action=)'
    match = re.search(opening + r"[^>]*>(.*?)</form>", body, re.DOTALL)
    assert match, f"no form for {action or 'this page'}"
    return match[1]


def error_under(body: str, name: str, action: str | None = None) -> str:
    """The message the form shows for input `name`, checked to be attached to that input.

    The input (or the fieldset of a radio or checkbox group) is marked invalid and names the
    message in aria-describedby; the message sits inside the input's wrapper; no other input
    of the form has a message.
    """
    form = _form(body, action)
    element = re.search(rf'<(?:input|select|textarea|fieldset)\b[^>]*\bid="{name}"[^>]*>', form)
    assert element, f"no input {name}"
    described = re.search(r'aria-describedby="([^"]*)"', element[0])
    assert described and f"{name}-error" in described[1].split(), element[0]
    if element[0].startswith("<fieldset"):
        wrapper = re.search(rf'<fieldset\b[^>]*\bid="{name}"[^>]*>.*?</fieldset>', form, re.DOTALL)
    else:
        wrapper = re.search(
            rf'<div class="field[^"]*">\s*<label for="{name}">.*?</div>', form, re.DOTALL
        )
    assert wrapper and "has-error" in wrapper[0], f"{name} is not marked as having an error"
    message = re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', wrapper[0])
    assert message, f"no message inside the wrapper of {name}"
    others = re.findall(r'<p class="error" id="([^"]+)-error">', form)
    assert others == [name], f"messages under {others}, expected only {name}"
    return html.unescape(message[1]).strip()


def _post(office, url: str, data: dict):
    token = csrf_token(office["client"], "/organiser/formats/new")
    return office["client"].post(url, data={**data, "csrf_token": token})


# --- the contingent's release date ---------------------------------------------------------


def _contingent(office, **values) -> dict:
    data = {
        "organisation": office["partner"],
        "seats": "1",
        "release_date": (office["day"] - timedelta(days=7)).isoformat(),
        "release_time": "12:00",
    }
    data.update(values)
    return data


def test_a_release_after_the_start_shows_under_the_release_date(app, office):
    """It used to show under "Plätze": the service says `release_at`, the form has no such
    input, and the route's fallback for unknown names was the seats."""
    url = f"/organiser/sessions/{office['session']}/contingents"
    before = _database(app)
    response = _post(
        office, url, _contingent(office, release_date=(office["day"] + timedelta(1)).isoformat())
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    message = "Die Freigabe muss vor dem Beginn des Termins liegen."
    assert error_under(body, "release_date", action=url) == message
    assert f'<a href="#release_date">Freigabe am: {message}</a>' in body  # the summary's link
    assert _database(app) == before


# --- every other service error that names a field ------------------------------------------


@dataclass
class Case:
    """A form post that a service refuses, and the input its message belongs under."""

    form: str  # "contingent", "edit", "schedule", "generate" or "publish"
    values: dict
    field: str
    message: str
    prepare: Callable | None = None  # (app, office, monkeypatch), before the post


HOST = "<the host organisation>"  # stands for its id, which is known only in the test


def _partner_list_offers_the_host(app, office, monkeypatch) -> None:
    monkeypatch.setattr(
        overview,
        "partner_choices",
        lambda: [(office["partner"], "VMDO"), (office["host"], "Polizeipräsidium")],
    )


def _session_is_full(app, office, monkeypatch) -> None:
    with app.app_context():
        session = db.session.get(Session, office["session"])
        for n in range(3):
            rules.register_for_session(session, applicant(n), now=utcnow())
        db.session.commit()


def _no_end_check_in_the_form(app, office, monkeypatch) -> None:
    monkeypatch.setattr(SessionForm, "validate_end_time", lambda form, field: None)


def _until_not_required_by_the_form(app, office, monkeypatch) -> None:
    required = RequiredWhen.__call__

    def until_optional(validator, form, field):
        if field.name != "until":
            required(validator, form, field)

    monkeypatch.setattr(RequiredWhen, "__call__", until_optional)


def _daily_rule_without_end(app, office, monkeypatch) -> None:
    with app.app_context():
        format = db.session.get(Session, office["session"]).format
        format.rrule = "FREQ=DAILY"  # no COUNT or UNTIL: every day, for ever
        format.series_start = date(2027, 1, 1)
        format.start_time = time(18)
        db.session.commit()


def _a_date_in_the_skipped_hour(app, office, monkeypatch) -> None:
    with app.app_context():
        format = db.session.get(Session, office["session"]).format
        format.rdates = f"{SPRING_FORWARD.isoformat()}T02:30"
        db.session.commit()


def _a_date_in_the_repeated_hour(app, office, monkeypatch) -> None:
    with app.app_context():
        format = db.session.get(Session, office["session"]).format
        format.rdates = f"{FALL_BACK.isoformat()}T02:30"
        db.session.commit()


def _a_draft_and_no_choice_check(app, office, monkeypatch) -> None:
    with app.app_context():
        format = db.session.get(Session, office["session"]).format
        make_session(format, status=SessionStatus.DRAFT)
        db.session.commit()
    monkeypatch.setattr(PublishForm, "validate_sessions", lambda form, field: None)


CASES = {
    # services/contingents.py
    "contingent seats": Case("contingent", {"seats": "4"}, "seats", "nicht mehr frei"),
    "contingent organisation": Case(
        "contingent",
        {"organisation": HOST},
        "contingent-organisation",  # its id; the add-a-person form asks for an organisation too
        "Kontingente gibt es nur für Partnerorganisationen.",
        _partner_list_offers_the_host,
    ),
    "contingent release in the past": Case(
        "contingent",
        {"release_date": "2026-01-05", "release_time": "12:00"},
        "release_date",
        "Die Freigabe muss in der Zukunft liegen.",
    ),
    # services/recurrence.py local_to_utc: a release time the clocks skip (named start_time)
    "contingent release time in the skipped hour": Case(
        "contingent",
        {"release_date": SPRING_FORWARD.isoformat(), "release_time": "02:30"},
        "release_time",
        "In dieser Nacht wird die Uhr vorgestellt.",
    ),
    "contingent release time in the repeated hour": Case(
        "contingent",
        {"release_date": FALL_BACK.isoformat(), "release_time": "02:30"},
        "release_time",
        "In dieser Nacht wird die Uhr zurückgestellt.",
    ),
    # services/scheduling.py, through the session edit form
    "session start in the skipped hour": Case(
        "edit",
        {"start_date": SPRING_FORWARD.isoformat(), "start_time": "02:30", "end_time": "04:00"},
        "start_time",
        "In dieser Nacht wird die Uhr vorgestellt.",
    ),
    "session end in the skipped hour": Case(
        "edit",
        {"start_date": SPRING_FORWARD.isoformat(), "start_time": "01:00", "end_time": "02:30"},
        "end_time",
        "02:30 Uhr gibt es am 28.03.2027 nicht",
    ),
    "session start in the repeated hour": Case(
        "edit",
        {"start_date": FALL_BACK.isoformat(), "start_time": "02:30", "end_time": "04:00"},
        "start_time",
        "02:30 Uhr gibt es am 31.10.2027 zweimal",
    ),
    "session end in the repeated hour": Case(
        "edit",
        {"start_date": FALL_BACK.isoformat(), "start_time": "01:00", "end_time": "02:15"},
        "end_time",
        "02:15 Uhr gibt es am 31.10.2027 zweimal",
    ),
    "session start in the past": Case(
        "edit", {"start_date": "2020-01-01"}, "start_date", "in der Vergangenheit"
    ),
    "session end before start (the service's check)": Case(
        "edit",
        {"start_time": "18:00", "end_time": "17:00"},
        "end_time",
        "Das Ende muss nach dem Beginn liegen.",
        _no_end_check_in_the_form,
    ),
    "session capacity below the seats taken": Case(
        "edit", {"capacity": "2"}, "capacity", "3 Plätze sind schon vergeben", _session_is_full
    ),
    # services/recurrence.py RecurrenceSpec.local_starts, through the schedule form
    "schedule with too many dates": Case(
        "schedule",
        {"kind": "weekly", "weekday": "0", "until": "2031-12-31"},
        "end",
        "Diese Regel ergibt mehr als 200 Termine.",
    ),
    "schedule without a single date": Case(
        "schedule",
        {"start_date": "2027-01-13", "until": "2027-01-13"},
        "end",
        "Diese Regel ergibt keinen einzigen Termin.",
    ),
    "schedule without an end (the service's check)": Case(
        "schedule",
        {"until": None},
        "end",
        "Bitte geben Sie an, wann die Reihe endet.",
        _until_not_required_by_the_form,
    ),
    "schedule time in the skipped hour": Case(
        "schedule",
        {"kind": "dates", "dates": SPRING_FORWARD.strftime("%d.%m.%Y"), "start_time": "02:30"},
        "start_time",
        "In dieser Nacht wird die Uhr vorgestellt.",
    ),
    "schedule time in the repeated hour": Case(
        "schedule",
        {"kind": "dates", "dates": FALL_BACK.strftime("%d.%m.%Y"), "start_time": "02:30"},
        "start_time",
        "In dieser Nacht wird die Uhr zurückgestellt.",
    ),
    "schedule series through the repeated hour": Case(
        "schedule",
        {"kind": "weekly", "weekday": "6", "start_date": "2027-10-03", "start_time": "02:30"},
        "start_time",
        "02:30 Uhr gibt es am 31.10.2027 zweimal",
    ),
    # services/scheduling.py planned_local_starts and preview_dates, through "generate"
    "generate too many drafts": Case(
        "generate",
        {"until": "2028-12-31"},
        "until",
        "Das wären mehr als 200 Termine auf einmal.",
        _daily_rule_without_end,
    ),
    "generate a date in the skipped hour (start_time: no such input, the default)": Case(
        "generate",
        {"until": "2027-04-30"},
        "until",
        "In dieser Nacht wird die Uhr vorgestellt.",
        _a_date_in_the_skipped_hour,
    ),
    "generate a date in the repeated hour": Case(
        "generate",
        {"until": "2027-11-30"},
        "until",
        "In dieser Nacht wird die Uhr zurückgestellt.",
        _a_date_in_the_repeated_hour,
    ),
    # services/scheduling.py publish_sessions
    "publish without a draft (the service's check)": Case(
        "publish",
        {},
        "sessions",
        "Bitte wählen Sie mindestens einen Entwurf aus.",
        _a_draft_and_no_choice_check,
    ),
}


def _request(office, case: Case) -> tuple[str, str | None, dict]:
    """The URL to post to, the form's action on the page that answers, and the data."""
    session, format = office["session"], office["format"]
    if case.form == "contingent":
        url = f"/organiser/sessions/{session}/contingents"
        data, action = _contingent(office), url
    elif case.form == "edit":
        url, action = f"/organiser/sessions/{session}/edit", None
        data = {
            "start_date": (office["day"] + timedelta(days=6)).isoformat(),
            "start_time": "18:00",
            "end_time": "20:00",
            "scope": "this",
            "venue_name": "Präsidium",
            "host_organisation": office["host"],
            "capacity": "3",
            "languages": ["de"],
        }
    elif case.form == "schedule":
        url = f"/organiser/formats/{format}/schedule"
        action = url + "#preview"  # the browser shows the preview, not the top
        data = {
            "kind": "monthly",
            "interval": "1",
            "weekday": "1",
            "nth": "2",
            "start_date": "2027-01-01",
            "start_time": "18:00",
            "end": "until",
            "until": "2027-12-31",
            "dates": "",
            "action": "create",
        }
    elif case.form == "generate":
        url = action = f"/organiser/formats/{format}/generate"
        data = {}
    else:
        url = action = f"/organiser/formats/{format}/publish"
        data = {}
    data.update(case.values)
    return (
        url,
        action,
        {k: office["host"] if v == HOST else v for k, v in data.items() if v is not None},
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_service_error_shows_under_the_field_it_names(app, office, monkeypatch, case):
    if case.prepare:
        case.prepare(app, office, monkeypatch)
    url, action, data = _request(office, case)
    before = _database(app)
    response = _post(office, url, data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:300]
    assert case.message in error_under(body, case.field, action)
    assert _database(app) == before


@pytest.mark.parametrize(
    "page",
    [
        "/organiser/",
        "/organiser/sessions/{session}",
        "/organiser/sessions/{session}/checkin",
        "/organiser/sessions/{session}/edit",
        "/organiser/formats/{format}",
        "/organiser/formats/{format}/schedule",
        "/auth/account",
    ],
)
def test_pages_with_several_forms_give_every_input_its_own_id(app, office, page):
    """Several forms on one page (add a person and keep seats for a partner both ask for an
    organisation; a button per registration): every id is used once, and every label
    points at an input that exists."""
    with app.app_context():
        session = db.session.get(Session, office["session"])
        session.format.approval_required = True
        for n in range(5):  # 3 seats pending approval, 2 waiting: buttons on every row
            rules.register_for_session(session, applicant(n), now=utcnow())
        db.session.commit()
    url = page.format(session=office["session"], format=office["format"])
    response = office["client"].get(url)
    assert response.status_code == 200, url
    body = response.get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', body)
    assert ids and len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for target in re.findall(r'<label for="([^"]+)"', body):
        assert target in ids, target
