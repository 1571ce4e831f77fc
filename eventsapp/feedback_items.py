"""The questions of the feedback form, in one place.

The three trust items are the procedural-fairness items of the European Social Survey,
Round 5 (2010), module D "Trust in the police and courts", questions D15–D17 (variables
plcrspc, plcfrdc, plcexdc), on the survey's own 4-point scale "not at all often" to "very
often", with "don't know". The German wording is ours, close to the survey's source
questionnaire and written for a reader who has just met the police at one of our dates;
the translations follow the German. The two items about the date use the same four steps
and "don't know", worded as agreement because they are statements.

Changing a question's meaning makes old and new answers incomparable: add a new key
instead, and keep the old one for the reports of earlier years.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

DONT_KNOW = 0
STEPS = (1, 2, 3, 4)  # from the least to the most favourable answer

OFTEN_SCALE = {
    1: _l("Überhaupt nicht oft"),
    2: _l("Nicht sehr oft"),
    3: _l("Oft"),
    4: _l("Sehr oft"),
    DONT_KNOW: _l("Weiß nicht"),
}
AGREE_SCALE = {
    1: _l("Stimme überhaupt nicht zu"),
    2: _l("Stimme eher nicht zu"),
    3: _l("Stimme eher zu"),
    4: _l("Stimme voll und ganz zu"),
    DONT_KNOW: _l("Weiß nicht"),
}


@dataclass(frozen=True)
class Item:
    key: str  # the column of eventsapp.models.FeedbackResponse
    text: LazyString
    short: LazyString  # a few words for chart legends and table headers
    scale: dict[int, LazyString]
    source: str


TRUST_ITEMS = (
    Item(
        "respect",
        _l(
            "Nach allem, was Sie gehört oder selbst erlebt haben: Wie oft behandelt die "
            "Polizei in Deutschland die Menschen mit Respekt?"
        ),
        _l("Respekt"),
        OFTEN_SCALE,
        "ESS Round 5 (2010), D15 (plcrspc)",
    ),
    Item(
        "fair",
        _l(
            "Wie oft trifft die Polizei in den Fällen, mit denen sie zu tun hat, faire und "
            "unparteiische Entscheidungen?"
        ),
        _l("Faire Entscheidungen"),
        OFTEN_SCALE,
        "ESS Round 5 (2010), D16 (plcfrdc)",
    ),
    Item(
        "explain",
        _l(
            "Wie oft erklärt die Polizei im Umgang mit den Menschen in Deutschland ihre "
            "Entscheidungen und ihr Handeln, wenn sie darum gebeten wird?"
        ),
        _l("Entscheidungen erklärt"),
        OFTEN_SCALE,
        "ESS Round 5 (2010), D17 (plcexdc)",
    ),
)
SESSION_ITEMS = (
    Item(
        "learned",
        _l("Ich habe bei diesem Termin etwas Neues erfahren."),
        _l("Neues erfahren"),
        AGREE_SCALE,
        "eventsapp",
    ),
    Item(
        "recommend",
        _l("Ich würde dieses Format weiterempfehlen."),
        _l("Weiterempfehlen"),
        AGREE_SCALE,
        "eventsapp",
    ),
)
ITEMS = TRUST_ITEMS + SESSION_ITEMS
ITEM_BY_KEY = {item.key: item for item in ITEMS}
