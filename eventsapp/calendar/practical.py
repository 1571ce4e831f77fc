"""Practical information in words, in the current language: for pages, the plain-text
part of mails and the DESCRIPTION of calendar entries (one wording for all three)."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _

from eventsapp.models import Session
from eventsapp.models.practical import Practical, practical_info


def practical_for(session: Session) -> Practical:
    """`session`'s practical information in the language being rendered."""
    locale = get_locale()
    return practical_info(session, locale.language if locale else None)


def venue_facts(info: Practical) -> list[str]:
    """The yes/no facts the organiser gave, as sentences."""
    sentences = {
        "step_free": (_("Stufenlos erreichbar."), _("Nicht stufenlos erreichbar.")),
        "hearing_loop": (
            _("Mit Induktionsschleife für Hörgeräte."),
            _("Ohne Induktionsschleife für Hörgeräte."),
        ),
        "accessible_toilet": (
            _("Barrierefreie Toilette vorhanden."),
            _("Keine barrierefreie Toilette."),
        ),
    }
    return [sentences[name][0 if value else 1] for name, value in info.venue_facts.items()]


def contact_line(info: Practical) -> str:
    return ", ".join(p for p in (info.contact_name, info.contact_phone, info.contact_email) if p)


def practical_text(session: Session) -> str:
    """Labelled paragraphs, or '' when the organiser gave nothing."""
    info = practical_for(session)
    accessibility = " ".join([*venue_facts(info), info.accessibility_note]).strip()
    parts = [
        (_("Ablauf"), info.what_happens),
        (_("Bitte mitbringen"), info.what_to_bring),
        (_("Treffpunkt"), info.meeting_point),
        (_("Barrierefreiheit"), accessibility),
        (_("Ansprechperson"), contact_line(info)),
        (_("Anfahrt"), info.directions_url if info else ""),
    ]
    return "\n\n".join(f"{label}: {text}" for label, text in parts if text)
