"""Absolute links for mail and feeds, built from EVENTSAPP_BASE_URL.

Mail is rendered in requests and in CLI commands alike, so links never depend on the
host a request happened to come in on.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    base = urlsplit(current_app.config["EVENTSAPP_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def base_host() -> str:
    return _hostname(current_app.config["EVENTSAPP_BASE_URL"])


@functools.cache
def _hostname(base_url: str) -> str:
    return urlsplit(base_url).hostname or "localhost"


def subscription_links(feed_url: str, name: str) -> dict[str, str]:
    """Ways to subscribe to a feed: the calendar app of this device, Google, Outlook, copy.

    These are links a visitor may choose to follow; nothing is loaded from those hosts.
    """
    webcal = "webcal://" + feed_url.split("://", 1)[1]
    return {
        "https": feed_url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?"
        + urlencode({"url": feed_url, "name": name[:60]}),
    }


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_app_links(session: Any, title: str) -> dict[str, str]:
    """Links that open a new entry for one session in Google's and Microsoft's web
    calendars, with title, time, place and a link back to the session's page. Apple's and
    every other calendar app take the session's .ics download instead. They are plain
    links: nothing is loaded from those sites unless the visitor follows one."""
    page = external_url("public.session_detail", session_id=session.id)
    place = ", ".join(part for part in (session.venue_name, session.venue_address) if part)
    start, end = session.starts_at.astimezone(UTC), session.ends_at.astimezone(UTC)
    google = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{_utc_stamp(start)}/{_utc_stamp(end)}",
        "details": page,
        "location": place,
    }
    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title,
        "startdt": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": page,
        "location": place,
    }
    return {
        "google": f"https://calendar.google.com/calendar/render?{urlencode(google)}",
        "outlook": f"https://outlook.live.com/calendar/0/deeplink/compose?{urlencode(outlook)}",
    }


def embed_snippet(endpoint: str, title: str, **values: Any) -> str:
    """The HTML a partner pastes into their website to show a dates widget: the frame (with
    a height for pages without script) and the small script that sizes it."""
    src = external_url(endpoint, **values)
    script = external_url("static", filename="embed-host.js")
    return (
        f'<iframe data-eventsapp src="{escape(src)}" title="{escape(title)}" '
        'style="width:100%;border:0" height="420" loading="lazy"></iframe>\n'
        f'<script src="{escape(script)}" async></script>'
    )
