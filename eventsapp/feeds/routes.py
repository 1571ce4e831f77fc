"""Calendar feeds (.ics) with strong ETags, truthful Last-Modified and 304s; Atom feeds of
news about dates for websites and messengers."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.feeds import bp
from eventsapp.formatting import format_text
from eventsapp.i18n import chosen_language
from eventsapp.models import Organisation
from eventsapp.models.session import calendar_domain
from eventsapp.services import feeds, news
from eventsapp.services import sessions as listing
from eventsapp.urls import external_url

# Calendar apps poll; an hour matches REFRESH-INTERVAL, revalidation is a cheap 304.
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, max-age=300"


def calendar_response(
    spec: feeds.FeedSpec, *, private: bool = False, filename: str | None = None
) -> Response:
    feed = feeds.feed_cache().get(spec)
    # Calendar apps accept gzip; a feed of a year of sessions shrinks about twentyfold.
    compressed = "gzip" in request.headers.get("Accept-Encoding", "")
    etag = feed.etag + ("-gz" if compressed else "")
    asked = request.headers.get("If-None-Match")
    if asked is not None and (asked == f'"{etag}"' or request.if_none_match.contains(etag)):
        # The poll of an unchanged feed: the cheapest answer there is.
        return Response(
            status=304,
            headers=[
                ("ETag", f'"{etag}"'),
                ("Cache-Control", PRIVATE_CACHE if private else PUBLIC_CACHE),
                ("Vary", "Accept-Encoding"),
            ],
        )
    response = Response(feed.gzipped if compressed else feed.body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = PRIVATE_CACHE if private else PUBLIC_CACHE
    response.vary.add("Accept-Encoding")
    if compressed:
        response.headers["Content-Encoding"] = "gzip"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A strong validator names one representation, so the gzip one has its own.
    response.set_etag(etag)
    if feed.last_modified is not None:
        response.last_modified = feed.last_modified
    return response.make_conditional(request)


@bp.get("/calendar.ics")
def all_sessions():
    return calendar_response(feeds.all_public_feed(utcnow()))


@bp.get("/formats/<slug>.ics")
def format_feed(slug: str):
    format = listing.get_visible_format(slug)  # calendar apps are anonymous
    if format is None:
        abort(404)
    return calendar_response(feeds.format_feed(format, utcnow()))


@bp.get("/organisations/<slug>.ics")
def organisation_feed(slug: str):
    organisation = db.session.execute(
        select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if organisation is None:
        abort(404)
    return calendar_response(feeds.organisation_feed(organisation, utcnow()))


@bp.get("/sessions/<int:session_id>.ics")
def session_download(session_id: int):
    viewer = current_user if current_user.is_authenticated else None
    session = listing.get_visible_session(session_id, viewer)
    if session is None:
        abort(404)
    filename = f"{session.format.slug}-{session.local_start:%Y-%m-%d}.ics"
    return calendar_response(
        feeds.session_feed(session), private=viewer is not None, filename=filename
    )


@bp.get("/feeds/<token>.ics")
def personal(token: str):
    feed = feeds.find_personal_feed(token)
    if feed is None:
        abort(404)
    response = calendar_response(feeds.personal_feed_spec(feed, utcnow()), private=True)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def news_response(
    entries: list[news.NewsEntry],
    *,
    title: str,
    feed_id: str,
    since: datetime,
    self_url: str,
    page_url: str,
) -> Response:
    """An Atom feed in the reader's language (?lang= or Accept-Language)."""
    body = render_template(
        "feeds/news.atom.xml",
        entries=entries,
        title=title,
        feed_id=feed_id,
        updated=max((entry.happened_at for entry in entries), default=since),
        self_url=self_url,
        page_url=page_url,
    )
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.vary.add("Accept-Language")
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/formats/<slug>.atom")
def format_news(slug: str):
    format = listing.get_visible_format(slug)  # feed readers are anonymous
    if format is None:
        abort(404)
    lang = chosen_language()
    return news_response(
        news.news(now=utcnow(), format=format),
        title=_("%(title)s: Termine", title=format_text(format, "title")),
        feed_id=f"tag:{calendar_domain()},{format.created_at:%Y-%m-%d}:formats/{format.id}/news",
        since=format.created_at,
        self_url=external_url("feeds.format_news", slug=slug, lang=lang),
        page_url=external_url("public.format_detail", slug=slug, lang=lang),
    )


@bp.get("/organisations/<slug>.atom")
def organisation_news(slug: str):
    organisation = listing.get_organisation(slug)
    if organisation is None:
        abort(404)
    lang = chosen_language()
    return news_response(
        news.news(now=utcnow(), host=organisation),
        title=_("Termine bei %(organisation)s", organisation=organisation.name),
        feed_id=(
            f"tag:{calendar_domain()},{organisation.created_at:%Y-%m-%d}:"
            f"organisations/{organisation.id}/news"
        ),
        since=organisation.created_at,
        self_url=external_url("feeds.organisation_news", slug=slug, lang=lang),
        page_url=external_url("public.organisation_detail", slug=slug, lang=lang),
    )
