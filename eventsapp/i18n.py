"""Which language and time zone a request is answered in.

The visitor's choice (`?lang=xx`, remembered in a `lang` cookie that holds nothing but the
language code) wins; else the language of what the page is about, where it has one (a
registration's, on its manage page); else the browser's Accept-Language; else German.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, has_request_context, request, url_for
from flask_babel import get_locale, refresh
from werkzeug.routing import BuildError

LANGUAGE_NAMES = {
    "de": "Deutsch",
    "en": "English",
    "tr": "Türkçe",
    "ar": "العربية",
    "fr": "Français",
    "uk": "Українська",
}
RTL_LANGUAGES = frozenset({"ar"})
LANGUAGE_COOKIE = "lang"


def available_languages() -> tuple[str, ...]:
    return tuple(current_app.config["EVENTSAPP_LANGUAGES"])


def select_locale() -> str:
    """The visitor's language among those the site has catalogs for, else German."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    languages = available_languages()
    for candidate in (
        request.args.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        g.get(PAGE_LANGUAGE),  # the language of what the page is about (prefer_language)
    ):
        if candidate in languages:
            return candidate
    return request.accept_languages.best_match(languages) or default


PAGE_LANGUAGE = "eventsapp_page_language"


def prefer_language(language: str) -> None:
    """Show this request's page in `language` (a registration's, on its manage page) unless
    the visitor chose another with the switcher; call before anything is translated."""
    g.setdefault(PAGE_LANGUAGE, language)
    refresh()  # a locale Flask-Babel may have picked already is chosen again


def chosen_language() -> str | None:
    """The request's ?lang= when it names one of the site's languages, to repeat in links."""
    chosen = request.args.get("lang")
    return chosen if chosen in available_languages() else None


def page_language() -> str:
    """The language the current page is shown in: mail a visitor asks for goes out in it."""
    locale = get_locale()
    if locale is not None and locale.language in available_languages():
        return locale.language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["EVENTSAPP_TIMEZONE"]


def text_direction(language: str) -> str:
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def register(app: Flask) -> None:
    @app.after_request
    def remember_language(response: Response) -> Response:
        """Keep a language chosen with ?lang= for the next pages (one year, this site only)."""
        chosen = request.args.get("lang")
        if request.blueprint == "embed":
            return response  # a frame on another site: no cookie of ours there
        if chosen in available_languages() and chosen != request.cookies.get(LANGUAGE_COOKIE):
            response.set_cookie(
                LANGUAGE_COOKIE,
                chosen,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                httponly=True,
                secure=current_app.config["SESSION_COOKIE_SECURE"],
            )
        return response

    @app.context_processor
    def language_links() -> dict:
        """Links to this page in every language, for the switcher (the home page when the
        page answered a form, which has no address of its own to repeat)."""
        if not has_request_context():
            return {"language_links": []}  # mail rendered by the worker
        endpoint, arguments = "public.home", {}
        if request.method == "GET" and request.endpoint and request.url_rule is not None:
            endpoint = request.endpoint
            arguments = {**query_arguments(), **(request.view_args or {})}
        links = []
        for code in available_languages():
            try:
                url = url_for(endpoint, **{**arguments, "lang": code})
            except (BuildError, ValueError):
                url = url_for("public.home", lang=code)
            links.append((code, LANGUAGE_NAMES[code], url))
        return {"language_links": links}


def query_arguments() -> dict[str, str]:
    """The request's ordinary query parameters (the first value of each), to repeat in a link.

    url_for reads `_external`, `_scheme`, `_anchor`, `_method` (and any later `_` name) as
    instructions and `endpoint` as its own argument: from a query string they would make
    absolute links to a made-up scheme, add fragments, or raise. No page reads such a
    parameter, so they are left out. The page's own path arguments are not taken from the
    query either (the caller lets the view's arguments win).
    """
    return {
        name: value
        for name, value in request.args.items()
        if not name.startswith("_") and name != "endpoint"
    }
