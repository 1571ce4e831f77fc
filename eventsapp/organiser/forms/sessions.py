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
from eventsapp.organiser.forms.formats import TRANSLATED_LANGUAGES
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

    def reasons(self) -> dict[str, str]:
        """The reason in further languages, where given (fields `reason_<language>`,
        added below)."""
        return {
            language: self[f"reason_{language}"].data
            for language in TRANSLATED_LANGUAGES
            if self[f"reason_{language}"].data
        }


# The date's own texts: the label in a language, and how long each may be (as in German).
SESSION_TEXT_FIELDS = {
    "interpreting": (lambda name: _l("Dolmetschen (%(language)s)", language=name), 200),
    "note": (lambda name: _l("Hinweis für Teilnehmende (%(language)s)", language=name), 2000),
    "cancel_reason": (lambda name: _l("Grund der Absage (%(language)s)", language=name), 2000),
    "what_to_bring": (lambda name: _l("Bitte mitbringen (%(language)s)", language=name), 2000),
    "meeting_point": (lambda name: _l("Treffpunkt (%(language)s)", language=name), 300),
    "accessibility_note": (
        lambda name: _l("Hinweise zur Barrierefreiheit (%(language)s)", language=name),
        2000,
    ),
}


class SessionTranslationsForm(FlaskForm):
    """A date's own texts in the other languages, each optional: German is shown where one
    is missing. Only texts the date has in German are offered (`fields`)."""

    def fields_for(self, language: str, fields: list[str]) -> list:
        return [self[f"{field}_{language}"] for field in fields]

    def translations(self, fields: list[str]) -> dict[str, dict[str, str]]:
        result = {}
        for language in TRANSLATED_LANGUAGES:
            values = {f: self[f"{f}_{language}"].data for f in fields}
            values = {field: text for field, text in values.items() if text}  # else German
            if values:
                result[language] = values
        return result


for _language in TRANSLATED_LANGUAGES:
    _direction = {"lang": _language, "dir": "auto"}
    for _field, (_label, _length) in SESSION_TEXT_FIELDS.items():
        _labelled = _label(LANGUAGE_NAMES[_language])
        if _length > 300:
            _input = TextAreaField(
                _labelled,
                filters=[strip],
                validators=[
                    Length(max=_length, message=_l("Bitte höchstens %(max)d Zeichen.")),
                    plain_text,
                ],
                render_kw={"rows": 3, **_direction},
            )
        else:
            _input = text_field(_labelled, _length, render_kw=_direction)
        setattr(SessionTranslationsForm, f"{_field}_{_language}", _input)


for _language in TRANSLATED_LANGUAGES:
    setattr(
        CancelSessionForm,
        f"reason_{_language}",
        TextAreaField(
            SESSION_TEXT_FIELDS["cancel_reason"][0](LANGUAGE_NAMES[_language]),
            filters=[strip],
            validators=[
                Length(max=2000, message=_l("Bitte höchstens %(max)d Zeichen.")),
                plain_text,
            ],
            render_kw={"rows": 2, "lang": _language, "dir": "auto"},
        ),
    )
