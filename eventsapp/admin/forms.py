"""Admin forms: organisations and accounts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, Length, Optional

from eventsapp.forms import (
    email_field,
    options,
    plain_text,
    strip,
    text_field,
)
from eventsapp.i18n import LANGUAGE_NAMES


class OrganisationForm(FlaskForm):
    name = text_field(_l("Name"), 200, required=True)
    kind = RadioField(
        _l("Art"),
        choices=options(
            [("partner", _l("Partnerorganisation")), ("host", _l("Gastgeber (Behörde)"))]
        ),
        default="partner",
    )
    contact_email = email_field(
        _l("E-Mail für Ankündigungen"),
    )
    website = StringField(
        _l("Website"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=300, message=_l("Bitte höchstens %(max)d Zeichen.")),
            URL(message=_l("Bitte eine vollständige Adresse, z. B. https://beispiel.de")),
        ],
    )
    venue_name = text_field(_l("Veranstaltungsort (Name)"), 200)
    venue_address = text_field(_l("Adresse"), 300)
    description = TextAreaField(
        _l("Beschreibung"),
        filters=[strip],
        validators=[Length(max=5000, message=_l("Bitte höchstens %(max)d Zeichen.")), plain_text],
        render_kw={"rows": 3},
    )


class InviteForm(FlaskForm):
    name = text_field(_l("Name"), 120, required=True)
    email = email_field(
        _l("E-Mail-Adresse"),
        required_message=_l("Bitte geben Sie die E-Mail-Adresse an."),
    )
    role = RadioField(
        _l("Rolle"),
        choices=options(
            [
                ("partner", _l("Mitglied einer Partnerorganisation")),
                ("organiser", _l("Veranstalter/in")),
                ("admin", _l("Administrator/in")),
            ]
        ),
        default="partner",
    )
    organisation = SelectField(_l("Organisation"), coerce=int)
    language = SelectField(_l("Sprache"), choices=options(LANGUAGE_NAMES.items()), default="de")

    def __init__(
        self,
        *args,
        organisation_choices: list[tuple[int, str]],
        languages: tuple[str, ...],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organisation.choices = options([(0, _l("– keine –")), *organisation_choices])
        self.organisation.invalid_choice_message = _l(
            "Bitte wählen Sie eine Organisation aus der Liste."
        )
        self.language.choices = options((code, LANGUAGE_NAMES[code]) for code in languages)
        self.language.invalid_choice_message = _l("Bitte wählen Sie eine Sprache aus der Liste.")
