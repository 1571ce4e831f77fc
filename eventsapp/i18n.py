"""Which language and time zone a request is answered in."""

from __future__ import annotations

from flask import current_app, has_request_context, request

LANGUAGE_NAMES = {
    "de": "Deutsch",
    "en": "English",
    "tr": "Türkçe",
    "ar": "العربية",
    "fr": "Français",
    "uk": "Українська",
}
RTL_LANGUAGES = frozenset({"ar"})


def available_languages() -> tuple[str, ...]:
    return tuple(current_app.config["EVENTSAPP_LANGUAGES"])


def select_locale() -> str:
    """The visitor's best language among those the site has catalogs for, else German."""
    languages = available_languages()
    if len(languages) == 1 or not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_timezone() -> str:
    return current_app.config["EVENTSAPP_TIMEZONE"]


def text_direction(language: str) -> str:
    return "rtl" if language in RTL_LANGUAGES else "ltr"
