"""Admin forms: organisations, accounts and the outbox filter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, Length, Optional

from eventsapp.forms import (
    CHOICE_MESSAGES,
    email_field,
    no_control_characters,
    options,
    plain_text,
    strip,
    text_field,
    web_origins,
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
    language = SelectField(
        _l("Sprache der E-Mails an diese Adresse"),
        choices=options(LANGUAGE_NAMES.items()),
        default="de",
        validate_choice=True,
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
    embed_origins = TextAreaField(
        _l("Websites, die die Terminübersicht einbinden dürfen"),
        filters=[strip],
        validators=[Length(max=2000, message=_l("Bitte höchstens %(max)d Zeichen.")), web_origins],
        description=_l(
            "Eine Adresse pro Zeile, z. B. https://beispiel.de. Nur diese Websites können die "
            "Terminübersicht dieser Organisation in ihre Seiten einbinden; ohne Eintrag keine."
        ),
        render_kw={"rows": 3, "spellcheck": "false", "dir": "ltr"},
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


# An outbox mail's state in the admin's words: the counts, the filter and the list use these.
OUTBOX_STATES = {
    "pending": _l("Wartend"),
    "sending": _l("Wird gesendet"),
    "sent": _l("Verschickt"),
    "dead": _l("Nicht zustellbar"),
}


class OutboxFilterForm(FlaskForm):
    """The outbox list's search and state filter. Sent with GET and changes nothing, so it
    carries no CSRF token (the query string is bookmarkable and works without JavaScript)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Empfänger/in (ganze Adresse oder ein Teil davon)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=254, message=_l("Bitte höchstens %(max)d Zeichen.")),
            no_control_characters,
        ],
        render_kw={"maxlength": 254, "autocomplete": "off", "spellcheck": "false"},
    )
    status = SelectField(
        _l("Status"),
        choices=options([("", _l("alle")), *OUTBOX_STATES.items()]),
        default="",
        **CHOICE_MESSAGES,
    )
