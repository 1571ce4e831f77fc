"""Changing one session: its time, place, seats and languages, or calling it off."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, ValidationError

from eventsapp.forms import (
    CHOICE_MESSAGES,
    MultiCheckboxField,
    date_field,
    options,
    plain_text,
    strip,
    text_field,
    time_field,
)
from eventsapp.i18n import LANGUAGE_NAMES
from eventsapp.organiser.forms.common import MAX_CAPACITY, number_field
from eventsapp.organiser.forms.practical import SessionPracticalFields


class SessionForm(SessionPracticalFields, FlaskForm):
    start_date = date_field(_l("Datum"), required=_l("Bitte geben Sie ein Datum an."))
    start_time = time_field(_l("Beginn"), required=_l("Bitte geben Sie eine Uhrzeit an."))
    end_time = time_field(_l("Ende"), required=_l("Bitte geben Sie eine Uhrzeit an."))
    scope = RadioField(
        **CHOICE_MESSAGES,
        label=_l("Zeitänderung gilt für"),
        choices=options(
            [
                ("this", _l("nur diesen Termin")),
                ("following", _l("diesen und alle folgenden Termine des Formats")),
            ]
        ),
        default="this",
    )
    venue_name = text_field(_l("Ort (Name)"), 200, required=True)
    venue_address = text_field(_l("Adresse"), 300)
    host_organisation = SelectField(
        **CHOICE_MESSAGES, label=_l("Gastgebende Organisation"), coerce=int
    )
    capacity = number_field(_l("Plätze"), 1, MAX_CAPACITY)
    languages = MultiCheckboxField(
        **CHOICE_MESSAGES,
        label=_l("Gesprochene Sprachen"),
        choices=options(LANGUAGE_NAMES.items()),
        validate_choice=True,
    )
    interpreting = text_field(_l("Dolmetschen"), 200)
    note = TextAreaField(
        _l("Hinweis für Teilnehmende"),
        filters=[strip],
        validators=[Length(max=2000, message=_l("Bitte höchstens %(max)d Zeichen.")), plain_text],
        render_kw={"rows": 3},
    )

    def __init__(self, *args, host_choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.host_organisation.choices = options(host_choices)
        self.host_organisation.invalid_choice_message = _l(
            "Bitte wählen Sie eine Organisation aus der Liste."
        )
        self.languages.invalid_choice_message = _l("Bitte nur Sprachen aus der Liste.")

    def validate_end_time(self, field: TimeField) -> None:
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError(_l("Das Ende muss nach dem Beginn liegen."))


class CancelSessionForm(FlaskForm):
    reason = TextAreaField(
        _l("Grund der Absage (steht in der E-Mail an alle Angemeldeten)"),
        filters=[strip],
        validators=[
            DataRequired(_l("Bitte nennen Sie einen Grund.")),
            Length(max=2000, message=_l("Bitte höchstens %(max)d Zeichen.")),
            plain_text,
        ],
        render_kw={"rows": 3},
    )
