"""Admin forms: organisations and accounts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, Optional

from eventsapp.forms import no_control_characters, options, plain_text, strip, valid_email
from eventsapp.i18n import LANGUAGE_NAMES


def _text(label: object, max_length: int, required: bool = False) -> StringField:
    first = DataRequired(_l("Bitte füllen Sie dieses Feld aus.")) if required else Optional()
    return StringField(
        label,
        filters=[strip],
        validators=[
            first,
            Length(max=max_length, message=_l("Bitte höchstens %(max)d Zeichen.")),
            no_control_characters,
        ],
        render_kw={"maxlength": max_length},
    )


class OrganisationForm(FlaskForm):
    name = _text(_l("Name"), 200, required=True)
    kind = RadioField(
        _l("Art"),
        choices=options(
            [("partner", _l("Partnerorganisation")), ("host", _l("Gastgeber (Behörde)"))]
        ),
        default="partner",
    )
    contact_email = EmailField(
        _l("E-Mail für Ankündigungen"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=254, message=_l("Die E-Mail-Adresse ist zu lang.")),
            valid_email,
        ],
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
    venue_name = _text(_l("Veranstaltungsort (Name)"), 200)
    venue_address = _text(_l("Adresse"), 300)
    description = TextAreaField(
        _l("Beschreibung"),
        filters=[strip],
        validators=[Length(max=5000, message=_l("Bitte höchstens %(max)d Zeichen.")), plain_text],
        render_kw={"rows": 3},
    )


class InviteForm(FlaskForm):
    name = _text(_l("Name"), 120, required=True)
    email = EmailField(
        _l("E-Mail-Adresse"),
        filters=[strip],
        validators=[
            DataRequired(_l("Bitte geben Sie die E-Mail-Adresse an.")),
            Length(max=254, message=_l("Die E-Mail-Adresse ist zu lang.")),
            valid_email,
        ],
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
