"""What the back-office forms of every area share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from eventsapp.forms import NUMBER_MESSAGE

MAX_CAPACITY = 10_000


def number_field(label: object, low: int, high: int, **kwargs) -> IntegerField:
    """A required whole number from `low` to `high` (seats, minutes, weeks)."""
    return IntegerField(
        label,
        validators=[
            InputRequired(_l("Bitte geben Sie eine ganze Zahl an.")),
            NumberRange(min=low, max=high, message=_l("Bitte eine Zahl von %(min)s bis %(max)s.")),
        ],
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
        invalid_value_message=NUMBER_MESSAGE,
        **kwargs,
    )
