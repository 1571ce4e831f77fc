"""Putting a person on a session's list by hand."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from eventsapp.forms import CHOICE_MESSAGES, email_field, options, text_field
from eventsapp.i18n import LANGUAGE_NAMES


class ManualRegistrationForm(FlaskForm):
    name = text_field(_l("Name"), 120, required=True)
    email = email_field(
        _l("E-Mail-Adresse"),
        required_message=_l("Bitte geben Sie die E-Mail-Adresse an."),
        typo_hint=True,
        check_domain=True,
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


class WalkInForm(FlaskForm):
    """Someone at the door without a registration: a name, an address if they want mail."""

    name = text_field(_l("Name"), 120, required=True)
    email = email_field(
        _l("E-Mail-Adresse (freiwillig)"),
        typo_hint=True,
        description=_l("Nur wenn die Person ihren Link und die Bitte um Rückmeldung möchte."),
    )


class CheckinCodeForm(FlaskForm):
    """A check-in code typed in (read aloud, or from a printout)."""

    code = text_field(_l("Code"), 100, required=True)
