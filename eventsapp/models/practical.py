"""What an attendee needs to know before they come: what happens, what to bring, how the
venue is reached and how accessible it is, where to meet, whom to ask.

A format holds the usual answers (its texts translated like title and description); a
session may replace any of the texts for its date, in German (`Session.practical`). Both
are merged here, once, for the session page, the mails and the calendar entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from eventsapp.models.session import Session

# Texts a format has in every language (German in columns, others in `translations`).
TRANSLATED = ("what_happens", "what_to_bring", "meeting_point", "accessibility_note")
# Texts a session can replace for its date.
OVERRIDABLE = (
    "what_to_bring",
    "meeting_point",
    "accessibility_note",
    "contact_name",
    "contact_phone",
    "contact_email",
)
# Yes/no facts about the venue; None where the organiser has not said.
VENUE_FACTS = ("step_free", "hearing_loop", "accessible_toilet")


@dataclass(frozen=True)
class Practical:
    what_happens: str = ""
    what_to_bring: str = ""
    meeting_point: str = ""
    accessibility_note: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    venue_facts: dict[str, bool] = field(default_factory=dict)  # only those the organiser set
    directions_url: str = ""
    # Fields whose text is the session's own (written in German) on a page in another language.
    german_only: frozenset[str] = frozenset()

    @property
    def has_contact(self) -> bool:
        return bool(self.contact_name or self.contact_phone or self.contact_email)

    def __bool__(self) -> bool:
        return bool(
            self.what_happens
            or self.what_to_bring
            or self.meeting_point
            or self.accessibility_note
            or self.has_contact
            or self.venue_facts
        )


def directions_url(session: Session) -> str:
    """A search for the venue on OpenStreetMap: a plain link, nothing embedded or loaded."""
    place = ", ".join(part for part in (session.venue_name, session.venue_address) if part)
    return f"https://www.openstreetmap.org/search?{urlencode({'query': place})}" if place else ""


def practical_info(session: Session, language: str | None) -> Practical:
    """The practical information of `session` in `language` (German where not translated)."""
    format = session.format
    values = {name: format.text(name, language) or "" for name in TRANSLATED}
    for name in ("contact_name", "contact_phone", "contact_email"):
        values[name] = getattr(format, name) or ""
    german_only = {name for name in TRANSLATED if format.falls_back_to_german(name, language)}
    for name, text in (session.practical or {}).items():
        if name in OVERRIDABLE and text:
            german_only.discard(name)
            if name in TRANSLATED:  # the date's own text, perhaps translated for it
                values[name] = session.text(name, language)
                if session.falls_back_to_german(name, language):
                    german_only.add(name)
            else:
                values[name] = text
    facts = {name: getattr(format, name) for name in VENUE_FACTS}
    return Practical(
        **values,
        venue_facts={name: value for name, value in facts.items() if value is not None},
        directions_url=directions_url(session),
        german_only=frozenset(german_only),
    )
