"""Practical information for attendees: the format's usual answers and a date's own."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import Length, Optional, Regexp

from eventsapp.forms import CHOICE_MESSAGES, email_field, options, plain_text, strip, text_field
from eventsapp.models.practical import OVERRIDABLE, VENUE_FACTS

CONTACT = ("contact_name", "contact_phone", "contact_email")
# Digits, spaces and the usual separators: what people write in a phone number.
_PHONE = r"^\+?[0-9][0-9 ()/.\-]{3,38}$"


def _long_text(label: object, description: object = "", rows: int = 3) -> TextAreaField:
    return TextAreaField(
        label,
        description=description,
        filters=[strip],
        validators=[Length(max=2000, message=_l("Bitte höchstens %(max)d Zeichen.")), plain_text],
        render_kw={"rows": rows},
    )


def _venue_fact(label: object) -> RadioField:
    return RadioField(
        **CHOICE_MESSAGES,
        label=label,
        choices=options([("", _l("keine Angabe")), ("yes", _l("ja")), ("no", _l("nein"))]),
        default="",
        validate_choice=True,
    )


class ContactFields:
    contact_name = text_field(_l("Ansprechperson"), 120)
    contact_phone = text_field(
        _l("Telefon der Ansprechperson"),
        40,
        render_kw={"autocomplete": "off", "inputmode": "tel"},
    )
    contact_email = email_field(_l("E-Mail der Ansprechperson"), typo_hint=True, check_domain=True)

    def validate_contact_phone(self, field) -> None:
        Optional()(self, field)  # an empty field stops the chain here
        Regexp(
            _PHONE, message=_l("Bitte nur Ziffern, Leerzeichen, Punkte und die Zeichen + ( ) / -.")
        )(self, field)


class PracticalFields(ContactFields):
    """On the format: what the attendees of its dates need to know."""

    what_happens = _long_text(
        _l("Ablauf"), _l("Was erwartet die Teilnehmenden? Zum Beispiel Führung, Gespräch, Pause.")
    )
    what_to_bring = _long_text(
        _l("Bitte mitbringen"),
        _l("Zum Beispiel: Personalausweis oder Reisepass (für den Einlass ins Polizeipräsidium)."),
    )
    meeting_point = text_field(
        _l("Treffpunkt"), 300, description=_l("Zum Beispiel: am Haupteingang oder am Empfang.")
    )
    step_free = _venue_fact(_l("Stufenlos erreichbar"))
    hearing_loop = _venue_fact(_l("Induktionsschleife für Hörgeräte"))
    accessible_toilet = _venue_fact(_l("Barrierefreie Toilette"))
    accessibility_note = _long_text(
        _l("Weitere Hinweise zur Barrierefreiheit"),
        _l("Zum Beispiel: Aufzug neben dem Eingang, Parkplatz für Menschen mit Behinderung."),
    )

    def practical_values(self) -> dict[str, object]:
        """The fields as the format's attributes (yes/no facts as True/False/None)."""
        values: dict[str, object] = {
            name: self[name].data or ""
            for name in ("what_happens", "what_to_bring", "meeting_point", "accessibility_note")
        }
        values |= {name: self[name].data or "" for name in CONTACT}
        values |= {name: {"yes": True, "no": False}.get(self[name].data) for name in VENUE_FACTS}
        return values

    def show_practical(self, format) -> None:
        for name in VENUE_FACTS:
            value = getattr(format, name)
            self[name].data = "" if value is None else ("yes" if value else "no")


class SessionPracticalFields(ContactFields):
    """On one date: texts that replace the format's for this date only (empty: the format's)."""

    meeting_point = text_field(_l("Treffpunkt an diesem Termin"), 300)
    what_to_bring = _long_text(_l("Bitte mitbringen (an diesem Termin)"))
    accessibility_note = _long_text(_l("Hinweise zur Barrierefreiheit (an diesem Termin)"))

    def practical_overrides(self) -> dict[str, str]:
        return {name: self[name].data for name in OVERRIDABLE if self[name].data}

    def show_overrides(self, session) -> None:
        for name in OVERRIDABLE:
            self[name].data = (session.practical or {}).get(name, "")
