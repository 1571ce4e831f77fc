"""Back-office forms: formats, schedules, sessions, registrations, contingents."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    ValidationError,
)

from eventsapp.forms import (
    CHOICE_MESSAGES,
    NUMBER_MESSAGE,
    DayField,
    MultiCheckboxField,
    RequiredWhen,
    date_field,
    day_in_range,
    email_field,
    options,
    plain_text,
    strip,
    text_field,
    time_field,
)
from eventsapp.i18n import LANGUAGE_NAMES
from eventsapp.services.recurrence import MAX_OCCURRENCES, RecurrenceSpec

MAX_CAPACITY = 10_000

WEEKDAY_CHOICES = [
    (0, _l("Montag")),
    (1, _l("Dienstag")),
    (2, _l("Mittwoch")),
    (3, _l("Donnerstag")),
    (4, _l("Freitag")),
    (5, _l("Samstag")),
    (6, _l("Sonntag")),
]
NTH_CHOICES = [
    (1, _l("ersten")),
    (2, _l("zweiten")),
    (3, _l("dritten")),
    (4, _l("vierten")),
    (-1, _l("letzten")),
]


def _number(label: object, low: int, high: int, **kwargs) -> IntegerField:
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


class FormatForm(FlaskForm):
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
    duration_minutes = _number(_l("Dauer in Minuten"), 15, 24 * 60, default=120)
    capacity = _number(_l("Plätze"), 1, MAX_CAPACITY, default=20)
    visibility = RadioField(
        **CHOICE_MESSAGES,
        label=_l("Sichtbar für"),
        choices=options(
            [
                ("public", _l("alle (öffentlich)")),
                ("partners", _l("nur angemeldete Partnerorganisationen")),
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


def _ends_after_count(form: ScheduleForm) -> bool:
    return form.kind.data != "dates" and form.end.data == "count"


def _ends_on_date(form: ScheduleForm) -> bool:
    return form.kind.data != "dates" and form.end.data == "until"


class ScheduleForm(FlaskForm):
    kind = RadioField(
        **CHOICE_MESSAGES,
        label=_l("Wiederholung"),
        choices=options(
            [
                ("weekly", _l("wöchentlich oder alle paar Wochen")),
                ("monthly", _l("monatlich an einem Wochentag")),
                ("dates", _l("einzelne Daten")),
            ]
        ),
        default="monthly",
    )
    interval = _number(_l("Alle wie viele Wochen?"), 1, 8, default=1)
    weekday = SelectField(
        **CHOICE_MESSAGES,
        label=_l("Wochentag"),
        coerce=int,
        choices=options(WEEKDAY_CHOICES),
        default=1,
    )
    nth = SelectField(
        **CHOICE_MESSAGES, label=_l("Am"), coerce=int, choices=options(NTH_CHOICES), default=2
    )
    start_date = date_field(
        _l("Erster möglicher Tag"), required=_l("Bitte geben Sie ein Datum an (TT.MM.JJJJ).")
    )
    start_time = time_field(
        _l("Beginn (Uhrzeit)"), required=_l("Bitte geben Sie eine Uhrzeit an (HH:MM).")
    )
    end = RadioField(
        **CHOICE_MESSAGES,
        label=_l("Ende der Reihe"),
        choices=options(
            [("count", _l("nach einer Anzahl von Terminen")), ("until", _l("an einem Datum"))]
        ),
        default="until",
    )
    count = IntegerField(
        label=_l("Anzahl der Termine"),
        invalid_value_message=NUMBER_MESSAGE,
        validators=[
            RequiredWhen(_ends_after_count, _l("Bitte geben Sie die Anzahl der Termine an.")),
            NumberRange(
                min=1, max=MAX_OCCURRENCES, message=_l("Bitte eine Zahl von %(min)s bis %(max)s.")
            ),
        ],
    )
    until = date_field(
        _l("Letzter möglicher Tag"),
        RequiredWhen(_ends_on_date, _l("Bitte geben Sie das Enddatum an (TT.MM.JJJJ).")),
    )
    dates = TextAreaField(
        _l("Daten (eines pro Zeile, z. B. 14.01.2027)"),
        filters=[strip],
        validators=[Length(max=5000, message=_l("Bitte höchstens %(max)d Zeichen."))],
        render_kw={"rows": 5},
    )

    def validate_until(self, field: DayField) -> None:
        if self.start_date.data and field.data and field.data < self.start_date.data:
            raise ValidationError(_l("Das Ende liegt vor dem ersten Tag."))

    def validate_dates(self, field: TextAreaField) -> None:
        if self.kind.data != "dates":
            return
        parsed = []
        for line in (field.data or "").splitlines():
            if not line.strip():
                continue
            value = _parse_day(line.strip())
            if value is None:
                raise ValidationError(
                    _l("„%(line)s“ ist kein Datum. Bitte so: 14.01.2027", line=line.strip()[:40])
                )
            try:
                parsed.append(day_in_range(value))
            except ValueError as error:
                raise ValidationError(error.args[0]) from error
        if not parsed:
            raise ValidationError(_l("Bitte geben Sie mindestens ein Datum an."))
        if len(parsed) > MAX_OCCURRENCES:
            raise ValidationError(_l("Höchstens %(max)d Daten auf einmal.", max=MAX_OCCURRENCES))
        self.parsed_dates = tuple(parsed)

    def spec(self) -> RecurrenceSpec:
        return RecurrenceSpec(
            kind=self.kind.data,
            start_date=self.start_date.data,
            start_time=self.start_time.data,
            weekday=self.weekday.data,
            interval=self.interval.data or 1,
            nth=self.nth.data,
            count=self.count.data if self.end.data == "count" else None,
            until=self.until.data if self.end.data == "until" else None,
            dates=getattr(self, "parsed_dates", ()),
        )


def _parse_day(text: str) -> date | None:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


class SessionForm(FlaskForm):
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
    capacity = _number(_l("Plätze"), 1, MAX_CAPACITY)
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


class PublishForm(FlaskForm):
    sessions = MultiCheckboxField(
        **CHOICE_MESSAGES, label=_l("Entwürfe"), coerce=int, validate_choice=True
    )

    def __init__(self, *args, draft_choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sessions.choices = options(draft_choices)
        self.sessions.invalid_choice_message = _l("Bitte nur Entwürfe aus der Liste wählen.")

    def validate_sessions(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie mindestens einen Entwurf aus."))


class GenerateForm(FlaskForm):
    until = date_field(_l("Entwürfe anlegen bis"), required=_l("Bitte geben Sie ein Datum an."))


class ManualRegistrationForm(FlaskForm):
    name = text_field(_l("Name"), 120, required=True)
    email = email_field(
        _l("E-Mail-Adresse"),
        required_message=_l("Bitte geben Sie die E-Mail-Adresse an."),
    )
    organisation = text_field(_l("Organisation"), 200)
    language = SelectField(
        **CHOICE_MESSAGES,
        label=_l("Sprache der E-Mails"),
        choices=options(LANGUAGE_NAMES.items()),
        default="de",
    )

    def __init__(self, *args, languages: tuple[str, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = options((code, LANGUAGE_NAMES[code]) for code in languages)
        self.language.invalid_choice_message = _l("Bitte wählen Sie eine Sprache aus der Liste.")


class ContingentForm(FlaskForm):
    organisation = SelectField(**CHOICE_MESSAGES, label=_l("Partnerorganisation"), coerce=int)
    seats = _number(_l("Plätze"), 1, MAX_CAPACITY)
    release_date = date_field(_l("Freigabe am"), required=_l("Bitte geben Sie ein Datum an."))
    release_time = time_field(_l("um"), required=_l("Bitte geben Sie eine Uhrzeit an."))

    def __init__(self, *args, partner_choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organisation.choices = options(partner_choices)
        self.organisation.invalid_choice_message = _l(
            "Bitte wählen Sie eine Organisation aus der Liste."
        )


TRANSLATED_LANGUAGES = ("en", "tr", "ar", "fr", "uk")
TRANSLATED_FIELDS = ("title", "summary", "description")


class FormatTranslationsForm(FlaskForm):
    """A format's title, summary and description in the other languages (optional)."""

    def fields_for(self, language: str) -> list:
        return [self[f"{field}_{language}"] for field in TRANSLATED_FIELDS]

    def translations(self) -> dict[str, dict[str, str]]:
        result = {}
        for language in TRANSLATED_LANGUAGES:
            values = {f: self[f"{f}_{language}"].data or "" for f in TRANSLATED_FIELDS}
            if any(values.values()):
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
