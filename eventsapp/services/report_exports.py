"""The report tables as CSV files for the steering group's spreadsheets.

One file per table, like the page: participation, and the feedback answers. German column
names, numbers as German spreadsheets read them (decimal comma), UTF-8 with BOM and
semicolons, like the registration list (services/participants.py). A figure withheld on
the page (fewer than five responses) is withheld here too: the cell says "weniger als 5".
"""

from __future__ import annotations

import csv
import io

from eventsapp.feedback_items import ITEMS
from eventsapp.services.participants import spreadsheet_cell
from eventsapp.services.reports import Group, Grouping, Masked

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
