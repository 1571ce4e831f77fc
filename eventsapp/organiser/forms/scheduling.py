"""Planning a format's dates: the recurrence rule, drafts up to a day, publishing drafts."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import Length, NumberRange, ValidationError

from eventsapp.forms import (
    CHOICE_MESSAGES,
    NUMBER_MESSAGE,
    DayField,
    MultiCheckboxField,
    RequiredWhen,
    date_field,
    day_in_range,
    options,
    strip,
    time_field,
)
from eventsapp.organiser.forms.common import number_field
from eventsapp.services.recurrence import MAX_OCCURRENCES, RecurrenceSpec

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
    interval = number_field(_l("Alle wie viele Wochen?"), 1, 8, default=1)
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


class GenerateForm(FlaskForm):
    until = date_field(_l("Entwürfe anlegen bis"), required=_l("Bitte geben Sie ein Datum an."))


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
