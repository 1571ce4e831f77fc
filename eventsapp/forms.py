"""Validators and filters shared by the forms of every blueprint."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, Field, SelectMultipleField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from eventsapp.emails import EmailNotValidError, accepts_mail, normalise_email, suggest_email
from eventsapp.services.recurrence import EARLIEST_DAY, LATEST_DAY, within_range

# Joiners shape Arabic, Persian and Indic names correctly; they are letters' business.
_ALLOWED_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})


def strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _is_control(ch: str, allow_newlines: bool) -> bool:
    if ch in _ALLOWED_FORMAT_CHARACTERS or (allow_newlines and ch in "\r\n"):
        return False
    category = unicodedata.category(ch)
    return category[0] == "C" or category in ("Zl", "Zp")


def no_control_characters(form: FlaskForm, field: Field) -> None:
    """Refuse control and format characters, and line or paragraph separators."""
    if field.data and any(_is_control(ch, False) for ch in field.data):
        raise ValidationError(_l("Bitte verwenden Sie nur Buchstaben, Ziffern und Satzzeichen."))


def plain_text(form: FlaskForm, field: Field) -> None:
    """Like no_control_characters, but line breaks are allowed (descriptions, reasons)."""
    if field.data and any(_is_control(ch, True) for ch in field.data):
        raise ValidationError(_l("Der Text enthält unzulässige Steuerzeichen."))


def valid_email(form: FlaskForm, field: Field) -> None:
    if not field.data:
        return
    try:
        field.data = normalise_email(field.data)
    except EmailNotValidError as error:
        raise ValidationError(
            _l("Bitte geben Sie eine gültige E-Mail-Adresse an, z. B. name@beispiel.de.")
        ) from error


def options(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """(value, label) pairs as the choices of a select, radio or checkbox field."""
    return [SelectChoice(value, label) for value, label in pairs]


# Field-level messages WTForms would otherwise give in English (or not translate at all).
CHOICE_MESSAGES = {
    "invalid_choice_message": _l("Bitte wählen Sie einen Eintrag aus der Liste."),
    "invalid_value_message": _l("Bitte wählen Sie einen Eintrag aus der Liste."),
}
DATE_MESSAGE = _l("Bitte geben Sie ein gültiges Datum an (TT.MM.JJJJ).")
TIME_MESSAGE = _l("Bitte geben Sie eine gültige Uhrzeit an, z. B. 18:00.")
NUMBER_MESSAGE = _l("Bitte geben Sie eine ganze Zahl an.")
DATE_RANGE_MESSAGE = _l(
    "Bitte geben Sie ein Datum vom %(first)s bis zum %(last)s an.",
    first=f"{EARLIEST_DAY:%d.%m.%Y}",
    last=f"{LATEST_DAY:%d.%m.%Y}",
)


def day_in_range(value: date | None) -> date | None:
    """`value` if the app can work with that day, else ValueError with the message to show.

    The one check behind every date the back office takes (date inputs and the schedule's
    list of dates): a year like 0001 parses, but placing it in UTC overflows.
    """
    if value is not None and not within_range(value):
        raise ValueError(DATE_RANGE_MESSAGE)
    return value


class DayField(DateField):
    """A date input that refuses days outside EARLIEST_DAY..LATEST_DAY, as it refuses typos.

    The refusal happens while parsing, like "not a date": the field's data stays None, so
    no form-level check and no view ever sees such a day, and a field that does not apply
    (RequiredWhen) drops the message with the input.
    """

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        try:
            day_in_range(self.data)
        except ValueError:
            self.data = None
            raise


class RequiredWhen:
    """Required only while `applies(form)` holds; otherwise the input is ignored.

    Replaces `Optional()` for inputs that matter in one mode of a form only (an end date
    when the series ends on a date): a stray value in the unused input is no error.
    """

    def __init__(self, applies: Callable[[FlaskForm], bool], message: object) -> None:
        self.applies, self.message = applies, message
        self.field_flags: dict = {}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        empty = not field.raw_data or not str(field.raw_data[0]).strip()
        if not self.applies(form):
            field.errors[:] = []
            raise StopValidation()
        if empty:
            field.errors[:] = []
            raise StopValidation(self.message)


def text_field(
    label: object, max_length: int, *, required: bool = False, **kwargs: object
) -> StringField:
    """A one-line text input: trimmed, length-checked, no control characters."""
    first = DataRequired(_l("Bitte füllen Sie dieses Feld aus.")) if required else Optional()
    render_kw = {"maxlength": max_length, **kwargs.pop("render_kw", {})}
    return StringField(
        label,
        filters=[strip],
        validators=[
            first,
            Length(max=max_length, message=_l("Bitte höchstens %(max)d Zeichen.")),
            no_control_characters,
        ],
        render_kw=render_kw,
        **kwargs,
    )


class AddressField(EmailField):
    """An email input that may ask "Meinten Sie …?" (`typo_hint`). The field macro then
    offers two radio buttons named `<name>_suggestion`: the suggested address, or the
    address as typed. The answer counts only while the input still holds that address."""

    suggestion: str | None = None  # shown next to the input
    typed: str | None = None  # the address the suggestion is for
    answer: str | None = None  # what the person chose when sending the form

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        super().process(formdata, data, extra_filters)
        self.answer = formdata.get(f"{self.name}_suggestion") if formdata else None


def offer_correction(form: FlaskForm, field: AddressField) -> None:
    """Hold back an address at a likely misspelt provider (gmial.com) until the person has
    chosen the suggestion or their own spelling. Never changes an address unasked."""
    field.suggestion = field.typed = None
    if field.errors or not field.data:
        return
    suggestion = suggest_email(field.data)
    if suggestion is None:
        return
    if field.answer == suggestion:
        field.data = suggestion
        return
    field.suggestion, field.typed = suggestion, field.data
    if field.answer != field.data:
        # gettext, not lazy_gettext: a lazy string counts as markup, and the address must be
        # escaped like any text the person typed.
        raise ValidationError(
            _(
                "Meinten Sie %(address)s? Bitte wählen Sie unten eine Adresse aus und "
                "senden Sie das Formular noch einmal.",
                address=suggestion,
            )
        )


def domain_takes_mail(form: FlaskForm, field: Field) -> None:
    """Refuse a domain that DNS says takes no mail (EMAIL_CHECK_DELIVERABILITY); without
    an answer from DNS the address is taken (see eventsapp.emails.accepts_mail)."""
    if field.errors or not field.data:
        return
    if current_app.config.get("EMAIL_CHECK_DELIVERABILITY") and not accepts_mail(field.data):
        raise ValidationError(
            _(
                "An diese Adresse kann keine E-Mail zugestellt werden: die Domain "
                "%(domain)s nimmt keine E-Mail an. Bitte prüfen Sie die Schreibweise.",
                domain=field.data.rpartition("@")[2],
            )
        )


def email_field(
    label: object,
    *,
    required_message: object | None = None,
    typo_hint: bool = False,
    check_domain: bool = False,
    **kwargs: object,
) -> AddressField:
    """An email input, checked with email-validator and normalised (see normalise_email).

    `typo_hint`: ask "Meinten Sie …?" for a likely misspelt provider. `check_domain`: refuse
    a domain that takes no mail. Both for addresses we are about to write to; not for
    signing in, where the address is an account's, whatever it looks like.
    """
    first = DataRequired(required_message) if required_message else Optional()
    render_kw = {"maxlength": 254, **kwargs.pop("render_kw", {})}
    checks = [offer_correction] if typo_hint else []
    if check_domain:
        checks.append(domain_takes_mail)
    return AddressField(
        label,
        filters=[strip],
        validators=[
            first,
            Length(max=254, message=_l("Die E-Mail-Adresse ist zu lang.")),
            valid_email,
            *checks,
        ],
        render_kw=render_kw,
        **kwargs,
    )


def date_field(label: object, *validators: object, required: object | None = None) -> DayField:
    """A date input (TT.MM.JJJJ in the message, ISO from browsers) within the app's days.

    `required`: the message when it is empty; without it, pass the validators that decide.
    """
    first = [InputRequired(required)] if required else []
    return DayField(
        label,
        validators=[*first, *validators],
        invalid_value_message=DATE_MESSAGE,
        render_kw={"min": EARLIEST_DAY.isoformat(), "max": LATEST_DAY.isoformat()},
    )


def time_field(label: object, *, required: object) -> TimeField:
    """A required time of day (HH:MM); the day it belongs to is checked by date_field."""
    return TimeField(
        label, validators=[InputRequired(required)], invalid_value_message=TIME_MESSAGE
    )


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes (the field macro renders a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """Only the CSRF token, for buttons that change something (cancel, approve, renew)."""


MOST_ORIGINS = 20


def _origin(line: str) -> str | None:
    """`line` as a web origin (scheme://host[:port], lower case, the host in ASCII), or None
    when it is not one: a path, query, user name or another scheme makes it something else."""
    try:
        parts = urlsplit(line)
        port = parts.port
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "*" in host:
        return None
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if any(ch in host for ch in " ;,'\"") or ":" in host:  # no IPv6 literals: not needed
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def web_origins(form: FlaskForm, field: Field) -> None:
    """One website address per line, kept as its origin (https://example.org); each line
    that is not one is named in the message."""
    lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
    origins: list[str] = []
    for line in lines:
        origin = _origin(line)
        if origin is None:
            raise ValidationError(
                _(
                    "„%(line)s“ ist keine Website-Adresse wie https://beispiel.de (ohne Pfad).",
                    line=line[:100],
                )
            )
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MOST_ORIGINS:
        raise ValidationError(_("Bitte höchstens %(max)d Websites.", max=MOST_ORIGINS))
    field.data = "\n".join(origins)
