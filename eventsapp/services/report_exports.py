"""The report tables as CSV files for the steering group's spreadsheets.

One file per table, like the page: participation, and the feedback answers. German column
names, numbers as German spreadsheets read them (decimal comma), UTF-8 with BOM and
semicolons, like the registration list (services/participants.py). A figure withheld on
the page (fewer than five responses) is withheld here too: the cell says "weniger als 5".
"""

from __future__ import annotations

import csv
import io

from eventsapp.feedback_items import DONT_KNOW, ITEMS, STEPS
from eventsapp.services.participants import spreadsheet_cell
from eventsapp.services.reports import Group, Grouping, Masked, YearReport

GROUP_COLUMN = {
    Grouping.SESSION: "Termin",
    Grouping.FORMAT: "Format",
    Grouping.HOST: "Gastgeber",
    Grouping.QUARTER: "Quartal",
    Grouping.YEAR: "Jahr",
}
# Short names of the questions (eventsapp/feedback_items.py) for column headers.
ITEM_COLUMNS = {
    "respect": "Respekt",
    "fair": "faire Entscheidungen",
    "explain": "Entscheidungen erklären",
    "learned": "Neues erfahren",
    "recommend": "weiterempfehlen",
}
PARTICIPATION_COLUMNS = (
    "Termine",
    "abgesagt",
    "Plätze",
    "Anmeldungen",
    "bestätigt",
    "ohne Platz geblieben",
    "eingecheckt",
    "davon ohne Anmeldung",
    "nicht erschienen (%)",
    "Partnerplätze reserviert",
    "Partnerplätze genutzt",
    "Partnerplätze freigegeben",
    "mit Dolmetschen",
)


def _number(value: object, digits: int = 0) -> str:
    if isinstance(value, Masked):
        return f"weniger als {value.below}"
    if value is None:
        return ""
    if digits:
        return f"{value:.{digits}f}".replace(".", ",")
    return str(value)


def _file(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def participation_csv(groups: list[Group], grouping: Grouping) -> bytes:
    rows = []
    for group in groups:
        p = group.participation
        share = None if p.no_show_rate is None else p.no_show_rate * 100
        rows.append(
            [
                spreadsheet_cell(group.label),
                *(
                    _number(value)
                    for value in (
                        p.held,
                        p.cancelled,
                        p.seats,
                        p.registrations,
                        p.confirmed,
                        p.waiting,
                        p.attended,
                        p.walk_ins,
                    )
                ),
                _number(share, 1),
                _number(p.contingent_seats),
                _number(p.contingent_used),
                _number(p.contingent_released),
                _number(p.interpreted),
            ]
        )
    return _file([GROUP_COLUMN[grouping], *PARTICIPATION_COLUMNS], rows)


def feedback_csv(groups: list[Group], grouping: Grouping) -> bytes:
    """Per group: the number of responses, and per question how many chose each answer
    and the mean of the steps."""
    header = [GROUP_COLUMN[grouping], "Antworten"]
    for item in ITEMS:
        name = ITEM_COLUMNS[item.key]
        header += [f"{name}: {value}" for value in (1, 2, 3, 4)]
        header += [f"{name}: weiß nicht", f"{name}: Mittelwert"]
    rows = []
    for group in groups:
        row = [spreadsheet_cell(group.label), _number(group.shown(group.responses))]
        for item in ITEMS:
            figures = group.items[item.key]
            row += [_number(group.shown(figures.counts[value])) for value in (1, 2, 3, 4, 0)]
            row.append(_number(group.shown(figures.mean), 1))
        rows.append(row)
    return _file(header, rows)


def partners_csv(report: YearReport) -> bytes:
    """Per partner organisation: its people's registrations at the held dates, confirmed,
    checked in, and its contingent seats kept and used; withheld below five present."""
    header = ["Partnerorganisation", "Anmeldungen", "bestätigt", "eingecheckt"]
    header += ["Partnerplätze reserviert", "Partnerplätze genutzt"]
    rows = [
        [
            spreadsheet_cell(organisation.name),
            *(
                _number(one.shown(value))
                for value in (one.registrations, one.confirmed, one.attended)
            ),
            _number(one.contingent_seats),
            _number(one.shown(one.contingent_used)),
        ]
        for organisation, one in report.partners
    ]
    return _file(header, rows)


# --- the API ---------------------------------------------------------------------------------


def _json_value(value: object) -> object:
    if isinstance(value, Masked):
        return f"fewer than {value.below}"
    if isinstance(value, float):
        return round(value, 2)
    return value


def report_json(report: YearReport) -> dict:
    """The report as JSON for /api/v1/reports: the groups' participation and feedback
    figures; a figure on fewer than five responses is the string "fewer than 5"."""
    groups = []
    for group in report.groups:
        p = group.participation
        groups.append(
            {
                "label": group.label,
                "participation": {
                    "held": p.held,
                    "cancelled": p.cancelled,
                    "seats": p.seats,
                    "registrations": p.registrations,
                    "confirmed": p.confirmed,
                    "left_without_seat": p.waiting,
                    "checked_in": p.attended,
                    "walk_ins": p.walk_ins,
                    "no_show_rate": _json_value(p.no_show_rate),
                    "contingent_seats": p.contingent_seats,
                    "contingent_used": p.contingent_used,
                    "contingent_released": p.contingent_released,
                    "interpreted": p.interpreted,
                },
                "feedback": {
                    "responses": _json_value(group.shown(group.responses)),
                    "items": {
                        item.key: {
                            "mean": _json_value(group.shown(group.items[item.key].mean)),
                            "distribution": {
                                ("dont_know" if step == DONT_KNOW else str(step)): _json_value(
                                    group.shown(group.items[item.key].counts[step])
                                )
                                for step in (*STEPS, DONT_KNOW)
                            },
                        }
                        for item in ITEMS
                    },
                },
            }
        )
    partners = [
        {
            "organisation": organisation.slug,
            "registrations": _json_value(one.shown(one.registrations)),
            "confirmed": _json_value(one.shown(one.confirmed)),
            "checked_in": _json_value(one.shown(one.attended)),
            "contingent_seats": one.contingent_seats,
            "contingent_used": _json_value(one.shown(one.contingent_used)),
        }
        for organisation, one in report.partners
    ]
    return {
        "year": report.year,
        "grouping": str(report.grouping),
        "groups": groups,
        "partners": partners,
    }
