"""Validators and filters shared by the forms of every blueprint."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from eventsapp.services.emails import EmailNotValidError, normalise_email

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
