"""Rendered public pages for anonymous visitors, kept while the data behind them is unchanged.

The programme, format, organisation and session pages look the same for every anonymous
visitor in one language, except for the form's CSRF token. So the first rendering is kept
per process (page, language) and later visitors get a copy with their own token. Links in
pages are relative or built from EVENTSAPP_BASE_URL, never from the request's Host.

A kept page is dropped
- when the site's data fingerprint changes (one aggregate query over sessions, formats,
  organisations, registrations and contingents, read again at most every
  `PAGE_RECHECK_SECONDS`, default 2): a registration or an organiser's edit in another
  process shows within that time, and at once in the process that made it, which drops its
  pages after every commit that wrote anything;
- when a moment the page depends on passes (a session starts or ends, registration opens
  or closes): views name those moments with `valid_until`;
- after `MAX_AGE` (30 s) in any case: this bounds what the fingerprint cannot see (a
  contingent's release time passing on a list page; an update whose `updated_at` is older
  than the newest one when two transactions commit out of order).

Signed-in visitors, pages with a message to show (flash), pages asked for with a query
string (the API keeps its filters in the key instead) and anything but a 200 are rendered
fresh every time.

Pages are kept by endpoint and view arguments, not by path, so `/sessions/0001` is the page
of `/sessions/1`, not a new entry. Answers to a query string (the API's filters) are kept
apart from the pages asked for without one, in a small store of their own with a bound per
page: anyone can make up query strings by the thousand, and they must only ever push out
each other, never the programme or the plain API.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from flask import Flask, current_app, g, has_app_context, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event, func, select

from eventsapp.database import WROTE, db, utcnow
from eventsapp.models import Contingent, Format, Organisation, Registration, Session

MAX_AGE = timedelta(seconds=30)


@dataclass(frozen=True)
class PageKey:
    endpoint: str
    view_args: tuple  # the path's arguments, sorted by name
    language: str
    query: tuple = ()  # (name, values) of the parameters the view reads; () if none was given

    @property
    def page(self) -> tuple:
        """What the per-page bound of the query variants counts by (all languages)."""
        return self.endpoint, self.view_args


@dataclass(frozen=True)
class Page:
    body: str
    token: str | None  # the CSRF token rendered into the body, replaced for each visitor
    headers: list[tuple[str, str]]  # as the view set them (no cookies)
    expires: datetime


def fingerprint() -> tuple:
    """One row that changes whenever anything a public page shows is written."""

    def aggregate(*columns):
        return select(*columns).scalar_subquery()

    return tuple(
        db.session.execute(
            select(
                aggregate(func.count(Session.id)),
                aggregate(func.max(Session.updated_at)),
                aggregate(func.count(Format.id)),
                aggregate(func.max(Format.updated_at)),
                aggregate(func.count(Organisation.id)),
                aggregate(func.max(Organisation.updated_at)),
                aggregate(func.count(Registration.id)),
                aggregate(func.max(Registration.updated_at)),
                aggregate(func.count(Contingent.id)),
                aggregate(func.sum(Contingent.seats)),
                aggregate(func.max(Contingent.release_at)),
            )
        ).one()
    )


class PageCache:
    """`pages`: answers to requests without a query string the view reads; `variants`: the
    rest, at most `max_variants` and `max_variants_per_page` for one page. Each store drops
    its oldest entry when full, so a flood of variants never touches `pages`. Read the two
    dicts freely (tests do); change them only through the methods, which hold the lock.
    """

    def __init__(
        self, max_entries: int = 256, max_variants: int = 32, max_variants_per_page: int = 16
    ) -> None:
        self.pages: dict[PageKey, Page] = {}
        self.variants: dict[PageKey, Page] = {}
        self._lock = threading.Lock()
        self._fingerprint: tuple | None = None
        self._checked_at = float("-inf")
        self.max_entries = max_entries
        self.max_variants = max_variants
        self.max_variants_per_page = max_variants_per_page

    def _check(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < current_app.config["PAGE_RECHECK_SECONDS"]:
            return
        current = fingerprint()
        with self._lock:
            if current != self._fingerprint:
                self.pages.clear()
                self.variants.clear()
                self._fingerprint = current
            self._checked_at = now

    def get(self, key: PageKey) -> Page | None:
        self._check()
        page = (self.variants if key.query else self.pages).get(key)
        if page is not None and utcnow() >= page.expires:
            return None
        return page

    def put(self, key: PageKey, page: Page) -> None:
        with self._lock:
            store = self.variants if key.query else self.pages
            store.pop(key, None)  # a page rendered again counts as the newest
            if key.query:
                same_page = [k for k in self.variants if k.page == key.page]
                if len(same_page) >= self.max_variants_per_page:
                    self.variants.pop(same_page[0])
                elif len(self.variants) >= self.max_variants:
                    self.variants.pop(next(iter(self.variants)))
            elif len(self.pages) >= self.max_entries:
                self.pages.pop(next(iter(self.pages)))
            store[key] = page

    def clear(self) -> None:
        with self._lock:
            self.pages.clear()
            self.variants.clear()
            self._checked_at = float("-inf")


def page_cache() -> PageCache:
    return current_app.extensions["eventsapp.page_cache"]


def valid_until(*moments: datetime | None) -> None:
    """The page being rendered changes when the first of these future moments comes."""
    now = utcnow()
    later = [m for m in moments if m is not None and m > now]
    if later:
        g.page_valid_until = min([*later, g.get("page_valid_until", now + MAX_AGE)])


def _cacheable(query: tuple[str, ...]) -> bool:
    return (
        request.method == "GET"
        and (query or not request.query_string)
        and "_flashes" not in session
        and not current_user.is_authenticated
    )


def cached_for_visitors(view: Callable | None = None, *, query: tuple[str, ...] = ()):
    """Serve the view's page from the cache to anonymous visitors (see the module).

    `query`: the parameters the view reads (the API's filters); they become part of the key
    and others are ignored. Answers with any of them given are variants, kept apart (see
    PageCache), so made-up values cannot crowd real pages out of the cache.
    Without it any query string turns the cache off (pages repeat their parameters in the
    language links, and `?lang=` sets a cookie).
    """
    if view is None:
        return lambda view: cached_for_visitors(view, query=query)

    @wraps(view)
    def wrapper(**kwargs):
        if not _cacheable(query):
            return view(**kwargs)
        cache = page_cache()
        given = tuple((name, tuple(request.args.getlist(name))) for name in query)
        key = PageKey(
            request.endpoint or "",
            tuple(sorted((request.view_args or {}).items())),
            str(get_locale()),
            given if any(values for _, values in given) else (),
        )
        page = cache.get(key)
        if page is not None:
            body = page.body
            if page.token is not None:
                body = body.replace(page.token, generate_csrf())
            response = current_app.response_class(body, headers=page.headers)
            return response.make_conditional(request) if "ETag" in response.headers else response
        started = utcnow()
        response = make_response(view(**kwargs))
        if response.status_code == 200 and not response.direct_passthrough:
            expires = min(started + MAX_AGE, g.get("page_valid_until", started + MAX_AGE))
            token = g.get(current_app.config["WTF_CSRF_FIELD_NAME"])
            headers = [
                (name, value)
                for name, value in response.headers
                if name.lower() not in ("set-cookie", "content-length")
            ]
            cache.put(key, Page(response.get_data(as_text=True), token, headers, expires))
        return response

    return wrapper


def _wrote(db_session, flush_context) -> None:
    db_session.info[WROTE] = True


def _wrote_statement(orm_execute_state) -> None:
    # INSERT/UPDATE/DELETE statements run through the session write without a flush.
    if orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete:
        orm_execute_state.session.info[WROTE] = True


def _committed(db_session) -> None:
    if db_session.info.pop(WROTE, False) and has_app_context():
        cache = current_app.extensions.get("eventsapp.page_cache")
        if cache is not None:
            cache.clear()


def _rolled_back(db_session) -> None:
    db_session.info.pop(WROTE, None)


def init_app(app: Flask) -> None:
    app.extensions["eventsapp.page_cache"] = PageCache()
    for name, listener in (
        ("after_flush", _wrote),
        ("do_orm_execute", _wrote_statement),
        ("after_commit", _committed),
        ("after_rollback", _rolled_back),
    ):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
