"""A format's own forms: its settings and its texts in the other languages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from eventsapp.forms import (
    CHOICE_MESSAGES,
    MultiCheckboxField,
    options,
    plain_text,
    strip,
    text_field,
)
from eventsapp.i18n import LANGUAGE_NAMES
from eventsapp.organiser.forms.common import MAX_CAPACITY, number_field
from eventsapp.organiser.forms.practical import PracticalFields


class FormatForm(PracticalFields, FlaskForm):
    title = text_field(_l("Titel"), 200, required=True)
    summary = text_field(_l("Kurzbeschreibung"), 300)
    description = TextAreaField(
        _l("Beschreibung"),
        filters=[strip],
        validators=[Length(max=10_000, message=_l("Bitte höchstens %(max)d Zeichen.")), plain_text],
        render_kw={"rows": 6},
    )
    host_organisation = SelectField(
        **CHOICE_MESSAGES, label=_l("Gastgebende Organisation"), coerce=int
    )
    venue_name = text_field(_l("Ort (Name)"), 200)
    venue_address = text_field(_l("Adresse"), 300)
    duration_minutes = number_field(_l("Dauer in Minuten"), 15, 24 * 60, default=120)
    capacity = number_field(_l("Plätze"), 1, MAX_CAPACITY, default=20)
    visibility = RadioField(
        **CHOICE_MESSAGES,
        label=_l("Sichtbar für"),
        choices=options(
            [
                ("public", _l("alle (öffentlich)")),
                ("partners", _l("nur Mitglieder der Partnerorganisationen (mit Konto)")),
            ]
        ),
        default="public",
    )
    approval_required = BooleanField(_l("Anmeldungen müssen bestätigt werden"))
    reminder_hours = text_field(
        _l("Erinnerungen (Stunden vor Beginn, durch Komma getrennt)"),
        40,
        description=_l("Zum Beispiel „48, 3“: zwei Tage und drei Stunden vorher. Leer: keine."),
    )
    announce_to = RadioField(
        **CHOICE_MESSAGES,
        label=_l("Neue Termine ankündigen an"),
        choices=options(
            [
                ("all", _l("alle Partnerorganisationen")),
                ("selected", _l("nur die ausgewählten Partnerorganisationen")),
            ]
        ),
        default="all",
    )
    announcement_partners = MultiCheckboxField(
        **CHOICE_MESSAGES,
        label=_l("Ausgewählte Partnerorganisationen"),
        coerce=int,
        validate_choice=True,
    )
    feedback_audience = RadioField(
        **CHOICE_MESSAGES,
        label=_l("Nach dem Termin anonym um Rückmeldung bitten"),
        choices=options(
            [
                (
                    "attended",
                    _l("wer eingecheckt wurde (ohne Check-in: alle mit bestätigter Anmeldung)"),
                ),
                ("confirmed", _l("alle mit bestätigter Anmeldung")),
                ("nobody", _l("niemanden")),
            ]
        ),
        default="attended",
    )
    feedback_delay_hours = number_field(
        _l("Bitte um Rückmeldung: Stunden nach dem Ende"), 1, 7 * 24, default=3
    )

    def validate_reminder_hours(self, field: StringField) -> None:
        try:
            minutes = self.reminder_minutes()
        except ValueError as error:
            raise ValidationError(
                _l("Bitte ganze Stunden, durch Komma getrennt, z. B. 48, 3.")
            ) from error
        if any(m < 60 or m > 30 * 24 * 60 for m in minutes) or len(minutes) > 5:
            raise ValidationError(_l("Bitte höchstens fünf Werte von 1 bis 720 Stunden."))

    def reminder_minutes(self) -> list[int]:
        """The reminder offsets in minutes, longest first (ValueError if not numbers)."""
        parts = (self.reminder_hours.data or "").replace(" ", "").split(",")
        return sorted({int(part) * 60 for part in parts if part}, reverse=True)

    def __init__(
        self,
        *args,
        host_choices: list[tuple[int, str]],
        partner_choices: list[tuple[int, str]],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.announcement_partners.choices = options(partner_choices)
        self.host_organisation.choices = options(host_choices)
        self.host_organisation.invalid_choice_message = _l(
            "Bitte wählen Sie eine Organisation aus der Liste."
        )


TRANSLATED_LANGUAGES = ("en", "tr", "ar", "fr", "uk")
TRANSLATED_FIELDS = (
    "title",
    "summary",
    "description",
    "what_happens",
    "what_to_bring",
    "meeting_point",
    "accessibility_note",
)


class FormatTranslationsForm(FlaskForm):
    """A format's texts (title, descriptions, practical information) in the other
    languages, each optional: German is shown where one is missing."""

    def fields_for(self, language: str) -> list:
        return [self[f"{field}_{language}"] for field in TRANSLATED_FIELDS]

    def translations(self) -> dict[str, dict[str, str]]:
        result = {}
        for language in TRANSLATED_LANGUAGES:
            values = {f: self[f"{f}_{language}"].data for f in TRANSLATED_FIELDS}
            values = {field: text for field, text in values.items() if text}  # else German
            if values:
                result[language] = values
        return result


for _language in TRANSLATED_LANGUAGES:
    _name = LANGUAGE_NAMES[_language]
    _direction = {"lang": _language, "dir": "auto"}
    setattr(
        FormatTranslationsForm,
        f"title_{_language}",
        text_field(_l("Titel (%(language)s)", language=_name), 200, render_kw=_direction),
    )
    setattr(
        FormatTranslationsForm,
        f"summary_{_language}",
        text_field(
            _l("Kurzbeschreibung (%(language)s)", language=_name), 300, render_kw=_direction
        ),
    )
    setattr(
        FormatTranslationsForm,
        f"description_{_language}",
        TextAreaField(
            _l("Beschreibung (%(language)s)", language=_name),
            filters=[strip],
            validators=[
                Length(max=10_000, message=_l("Bitte höchstens %(max)d Zeichen.")),
                plain_text,
            ],
            render_kw={"rows": 4, **_direction},
        ),
    )
    for _field, _label in (
        ("what_happens", _l("Ablauf (%(language)s)", language=_name)),
        ("what_to_bring", _l("Bitte mitbringen (%(language)s)", language=_name)),
        ("accessibility_note", _l("Hinweise zur Barrierefreiheit (%(language)s)", language=_name)),
    ):
        setattr(
            FormatTranslationsForm,
            f"{_field}_{_language}",
            TextAreaField(
                _label,
                filters=[strip],
                validators=[
                    Length(max=2000, message=_l("Bitte höchstens %(max)d Zeichen.")),
                    plain_text,
                ],
                render_kw={"rows": 3, **_direction},
            ),
        )
    setattr(
        FormatTranslationsForm,
        f"meeting_point_{_language}",
        text_field(_l("Treffpunkt (%(language)s)", language=_name), 300, render_kw=_direction),
    )
