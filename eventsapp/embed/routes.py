"""The dates widget for partner websites: a page made to sit in an <iframe> on another site.

It lists the next public dates with seats left and links that open the session's page in a
new tab (a form inside the frame would need cookies, which browsers block there). Only the
sites an admin listed may frame it (`frame-ancestors`); every other page keeps 'none'.
"""

from __future__ import annotations

from flask import Response, abort, make_response, render_template, request
from flask_babel import gettext as _

from eventsapp.database import utcnow
from eventsapp.embed import bp
from eventsapp.formatting import format_text
from eventsapp.i18n import chosen_language
from eventsapp.models import Session
from eventsapp.security import content_security_policy
from eventsapp.services import embeds
from eventsapp.services import registrations as rules
from eventsapp.services import sessions as listing
from eventsapp.urls import external_url

THEMES = ("light", "dark")


def _limit() -> int:
    try:
        return int(request.args.get("limit", 5))
    except ValueError:
        return 5


def _widget(
    sessions: list[Session], *, title: str, origins: list[str], more_url: str, show_format: bool
) -> Response:
    now = utcnow()
    theme = request.args.get("theme")
    response = make_response(
        render_template(
            "embed/dates.html",
            sessions=sessions,
            counts=rules.seat_counts_for(sessions, now=now),
            title=title,
            origins=origins,
            more_url=more_url,
            show_format=show_format,
            theme=theme if theme in THEMES else None,
        )
    )
    # 'self' lets the admin and organiser pages show the live preview.
    response.headers["Content-Security-Policy"] = content_security_policy(
        " ".join(["'self'", *origins])
    )
    response.headers["Cache-Control"] = "public, max-age=60"
    response.vary.add("Accept-Language")
    return response


@bp.get("/organisations/<slug>")
def organisation_dates(slug: str):
    organisation = listing.get_organisation(slug)
    if organisation is None:
        abort(404)
    language = chosen_language()
    return _widget(
        embeds.next_dates(now=utcnow(), limit=_limit(), host=organisation),
        title=_("Termine bei %(organisation)s", organisation=organisation.name),
        origins=embeds.organisation_origins(organisation),
        more_url=external_url("public.organisation_detail", slug=slug, lang=language),
        show_format=True,
    )


@bp.get("/formats/<slug>")
def format_dates(slug: str):
    format = listing.get_visible_format(slug)  # public formats only: the visitor is anonymous
    if format is None:
        abort(404)
    language = chosen_language()
    return _widget(
        embeds.next_dates(now=utcnow(), limit=_limit(), format=format),
        title=format_text(format, "title"),
        origins=embeds.format_origins(format),
        more_url=external_url("public.format_detail", slug=slug, lang=language),
        show_format=False,
    )
