"""The report's charts, drawn on the server as SVG by pygal.

A chart is a picture of a table that stands beside it: the page and the PDF show the chart
with a short text alternative, and the same figures as a table, so nobody needs the picture
to read the report. pygal writes a self-contained SVG (its styles inside, no script:
`js=()`), which pages and the PDF embed as a `data:` image; nothing is fetched from another
host. A figure withheld below the threshold is a gap in the chart, as it is "fewer than 5"
in the table.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from flask_babel import get_locale
from flask_babel import gettext as _
from pygal.style import Style

from eventsapp.feedback_items import Item
from eventsapp.services.reports import Group, Masked

# Dark text on white; series colours told apart by people with the common colour-vision
# deficiencies (Okabe and Ito's palette, darkened to 3:1 against white), and line charts
# mark each series' points with a different shape.
FONTS = '"DejaVu Sans", "Noto Sans", Arial, sans-serif'
# Arabic first where the reader reads Arabic: the PDF's SVG renderer takes each text's
# first font that has its letters, and DejaVu has only some of them.
ARABIC_FONTS = '"Noto Sans Arabic", "Noto Naskh Arabic", "DejaVu Sans", sans-serif'
STYLE = dict(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#6b6b6b",
    opacity="1",
    opacity_hover="1",
    transition="none",
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=13,
    colors=("#0b5fa5", "#b05c00", "#00755a", "#a4367a", "#5c4f00"),
)
OPTIONS = dict(
    js=(),  # no script: the tooltips' script would come from another host
    disable_xml_declaration=True,
    width=720,
    height=360,
    legend_at_bottom=True,
    legend_at_bottom_columns=3,
    truncate_legend=-1,
    # Room under the last legend row: pygal measures it for Latin letters, and Arabic
    # letters reach lower (the second row was cut off in the Arabic PDF).
    margin_bottom=28,
    truncate_label=-1,
    print_values=False,
    show_y_guides=True,
)


@dataclass(frozen=True)
class Chart:
    description: str  # the text alternative: what the chart shows, and where its figures are
    svg: str

    @property
    def src(self) -> str:
        """The chart as an image address for <img src>, in pages and in the PDF."""
        return "data:image/svg+xml;base64," + b64encode(self.svg.encode()).decode("ascii")


def _options() -> dict:
    locale = get_locale()
    fonts = ARABIC_FONTS if locale is not None and locale.language == "ar" else FONTS
    return dict(OPTIONS, style=Style(font_family=fonts, **STYLE))


def _plain(value: object) -> float | None:
    return None if value is None or isinstance(value, Masked) else float(value)


def quarters_of(groups: Sequence[Group], year: int) -> list[Group | None]:
    """The four quarters of `year` in order: each one's group, or None without dates."""
    by_quarter = {group.key: group for group in groups}
    return [by_quarter.get((year, quarter)) for quarter in (1, 2, 3, 4)]


def _quarter_labels(year: int) -> list[str]:
    return [f"{year} Q{quarter}" for quarter in (1, 2, 3, 4)]


def trend(quarters: Sequence[Group | None], year: int, items: Sequence[Item]) -> Chart:
    """A line per question: its mean (1–4) in each quarter with enough responses."""
    chart = pygal.Line(
        range=(1, 4), allow_interruptions=True, dots_size=5, stroke_style={"width": 3}, **_options()
    )
    chart.x_labels = _quarter_labels(year)
    chart.y_labels = [1, 2, 3, 4]
    for item in items:
        chart.add(
            str(item.short),
            [
                None if group is None else _plain(group.shown(group.items[item.key].mean))
                for group in quarters
            ],
        )
    description = _(
        "Liniendiagramm: Mittelwert jeder Frage je Quartal %(year)d, auf der Skala von 1 bis "
        "4. Quartale mit weniger als 5 Antworten bleiben leer. Die Zahlen stehen in der "
        "Tabelle daneben.",
        year=year,
    )
    return Chart(description, chart.render(is_unicode=True))


def participation(quarters: Sequence[Group | None], year: int) -> Chart:
    """Bars per quarter: seats offered, confirmed, checked in, left without a seat."""
    chart = pygal.Bar(**_options())
    chart.x_labels = _quarter_labels(year)
    series = (
        (_("Plätze"), "seats"),
        (_("bestätigt"), "confirmed"),
        (_("eingecheckt"), "attended"),
        (_("ohne Platz geblieben"), "waiting"),
    )
    for label, name in series:
        chart.add(
            label,
            [0 if group is None else getattr(group.participation, name) for group in quarters],
        )
    description = _(
        "Balkendiagramm: Plätze, Bestätigte, Eingecheckte und Menschen ohne Platz je Quartal "
        "%(year)d. Die Zahlen stehen in der Tabelle daneben.",
        year=year,
    )
    return Chart(description, chart.render(is_unicode=True))
