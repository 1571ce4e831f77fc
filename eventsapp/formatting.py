"""Template helpers: dates and times in the session's zone and the visitor's language."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent
from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from eventsapp.calendar.practical import contact_line, practical_for, practical_text, venue_facts
from eventsapp.i18n import LANGUAGE_NAMES, text_direction
from eventsapp.models import Format, Session
from eventsapp.services.reports import Masked
from eventsapp.urls import calendar_app_links, embed_snippet, external_url, subscription_links


def session_date(session: Session, format: str = "full") -> str:
    """'Dienstag, 8. Dezember 2026' in the visitor's language, in the session's zone."""
    return format_date(session.local_start.date(), format=format, locale=get_locale())


def session_time_range(session: Session) -> str:
    """'18:00–20:30 Uhr' style start and end in the session's zone."""
    locale = get_locale()
    start = format_time(session.local_start, format="short", locale=locale)
    end = format_time(session.local_end, format="short", locale=locale)
    return f"{start}–{end}"


def local_datetime(value: datetime, timezone: str) -> str:
    """'Di., 12.01.2027, 18:00' style, in the given zone and the visitor's language."""
    local = value.astimezone(ZoneInfo(timezone))
    return (
        f"{format_date(local.date(), 'EEE, dd.MM.yyyy', locale=get_locale())}, "
        f"{format_time(local, 'short', locale=get_locale())}"
    )


def local_time(value: datetime, timezone: str) -> str:
    """'18:03' style, in the given zone and the visitor's language."""
    return format_time(value.astimezone(ZoneInfo(timezone)), "short", locale=get_locale())


STATUS_LABELS = {
    "draft": _l("Entwurf"),
    "published": _l("veröffentlicht"),
    "cancelled": _l("abgesagt"),
    "pending": _l("wartet auf Bestätigung"),
    "confirmed": _l("bestätigt"),
    "waitlisted": _l("Warteliste"),
    "rejected": _l("abgelehnt"),
}


def status_label(status: str) -> str:
    """A session's or registration's status as organisers read it."""
    return str(STATUS_LABELS.get(str(status), status))


def registration_label(status: str) -> str:
    """A registration's status: a cancelled registration is "storniert", a cancelled
    session "abgesagt", on every page and in every mail."""
    if str(status) == "cancelled":
        return str(_l("storniert"))
    return status_label(status)


def format_text(format: Format, field: str) -> str:
    """A format's title, summary or description in the visitor's language, else German."""
    locale = get_locale()
    return format.text(field, locale.language if locale else None)


def format_text_lang(format: Format, field: str) -> Markup:
    """` lang="de" dir="ltr"` for the element showing `ftext(format, field)` when that is
    the German text on a page in another language, so screen readers pronounce it as German
    and punctuation stays in place inside right-to-left pages; else nothing."""
    locale = get_locale()
    if format.falls_back_to_german(field, locale.language if locale else None):
        return Markup(' lang="de" dir="ltr"')
    return Markup("")


def session_text(session: Session, field: str) -> str:
    """A date's own text (interpreting, note, reason for calling off) in the page's or
    mail's language, else German."""
    locale = get_locale()
    return session.text(field, locale.language if locale else None)


def session_text_lang(session: Session, field: str) -> Markup:
    """The `lang="de" dir="ltr"` marking for `session_text` where it is the German text."""
    locale = get_locale()
    if session.falls_back_to_german(field, locale.language if locale else None):
        return Markup(' lang="de" dir="ltr"')
    return Markup("")


def figure(value: object, kind: str = "count") -> str:
    """A report figure in the reader's language: a count, a mean ("2,7"), a share
    ("12 %"); "fewer than 5" for a withheld figure, a dash for none."""
    if isinstance(value, Masked):
        return _("weniger als %(num)d", num=value.below)
    if value is None:
        return "–"
    locale = get_locale()
    if kind == "mean":
        return format_decimal(value, "0.0", locale=locale)
    if kind == "share":
        return format_percent(value, locale=locale)
    return format_decimal(value, locale=locale)


def format_day(value: date) -> str:
    """A calendar day in the reader's language ("12.03.2027")."""
    return format_date(value, "medium", locale=get_locale())


def iso(value: datetime) -> str:
    return value.isoformat()


def register(app: Flask) -> None:
    app.jinja_env.globals.update(
        session_date=session_date,
        session_time_range=session_time_range,
        local_datetime=local_datetime,
        local_time=local_time,
        status_label=status_label,
        registration_label=registration_label,
        ftext=format_text,
        ftext_lang=format_text_lang,
        stext=session_text,
        stext_lang=session_text_lang,
        external_url=external_url,
        embed_snippet=embed_snippet,
        calendar_app_links=calendar_app_links,
        practical=practical_for,
        practical_text=practical_text,
        venue_facts=venue_facts,
        contact_line=contact_line,
        subscription_links=subscription_links,
        language_names=LANGUAGE_NAMES,
        text_direction=text_direction,
        current_locale=get_locale,
        figure=figure,
        format_day=format_day,
    )
    app.jinja_env.filters["iso"] = iso
