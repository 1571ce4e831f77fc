"""The app benchmarks/infra.py serves with gunicorn: eventsapp as `wsgi:app` builds it, with
one piece of home-made infrastructure at a time swapped for the library's way, chosen by
the environment (the switches live here, not in eventsapp/):

- INFRA_PAGE_CACHE=off: no page kept; every cached view renders (`pagecache._cacheable`).
- INFRA_ICAL=icalendar: feeds built from icalendar objects (`icalendar_build_feed`).
- INFRA_FEED_CACHE=off: every feed request builds its feed (the first poll after a change).
"""

from __future__ import annotations

import os

from benchmarks import _infra_alt as alt
from eventsapp import create_app


def build():
    if os.environ.get("INFRA_PAGE_CACHE") == "off":
        from eventsapp import pagecache

        pagecache._cacheable = lambda query: False
    if os.environ.get("INFRA_ICAL") == "icalendar":
        from eventsapp.services import feeds

        feeds.build_feed = alt.icalendar_build_feed
    if os.environ.get("INFRA_FEED_CACHE") == "off":
        from eventsapp.services import feeds

        feeds.FeedCache.get = alt.uncached_feed_get
    return create_app(os.environ.get("EVENTSAPP_CONFIG"))


app = build()
