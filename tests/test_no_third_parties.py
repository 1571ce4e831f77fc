"""Nothing is loaded from another host: every page, stylesheet and script is self-contained.

Links a visitor may choose to follow (a partner's website, "subscribe in Google Calendar")
are navigation, not resources, and are allowed; anything the browser would fetch on its own
(scripts, styles, images, fonts, frames, form targets, CSS url()) must stay on this site.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from eventsapp.database import db, utcnow
from eventsapp.models import OrganisationKind, Role
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import login
from tests.factories import applicant, make_format, make_organisation, make_session, make_user

STATIC = Path(__file__).resolve().parent.parent / "eventsapp" / "static"
RESOURCE_ATTRIBUTES = {
    "script": ["src"],
    "img": ["src", "srcset"],
    "iframe": ["src"],
    "frame": ["src"],
    "source": ["src", "srcset"],
    "video": ["src", "poster"],
    "audio": ["src"],
    "embed": ["src"],
    "object": ["data"],
    "form": ["action"],
    "input": ["src", "formaction"],
    "button": ["formaction"],
    "track": ["src"],
}


class ResourceFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in RESOURCE_ATTRIBUTES.get(tag, []):
            if values.get(name):
                self.references.append(values[name])
        if tag == "link" and values.get("href"):
            self.references.append(values["href"])  # stylesheets, icons, preloads alike
        if values.get("style"):
            self.inline.append(values["style"])


def foreign(reference: str) -> bool:
    reference = reference.strip()
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", reference, re.I)) and not re.match(
        r"^(?:https?:)?//eventsapp\.test(?:[:/]|$)", reference
    )


def test_no_page_loads_anything_from_another_host(app):
    with app.app_context():
        host = make_organisation(
            OrganisationKind.HOST, slug="polizei", website="https://polizei.example"
        )
        format = make_format(host, slug="blick")
        session = make_session(format)
        registration = rules.register_for_session(session, applicant(1), now=utcnow())
        make_user(Role.ADMIN, email="admin@example.org")
        db.session.commit()
        pages = [
            "/",
            "/formats/blick",
            f"/sessions/{session.id}",
            "/privacy",
            "/auth/login",
            f"/registrations/{manage_token(registration)}",
            "/organisations/polizei",
            "/nowhere",
        ]
        back_office = [
            "/organiser/",
            f"/organiser/sessions/{session.id}",
            "/organiser/calendar",
            "/organiser/formats/new",
            f"/organiser/formats/{format.id}/schedule",
            "/admin/organisations",
            "/admin/users",
            "/admin/outbox",
            "/auth/account",
        ]
    client = app.test_client()
    checked = 0
    for url in [*pages, "LOGIN", *back_office]:
        if url == "LOGIN":
            login(client, "admin@example.org")
            continue
        for language in ("de", "ar"):
            response = client.get(f"{url}?lang={language}")
            finder = ResourceFinder()
            finder.feed(response.get_data(as_text=True))
            assert [r for r in finder.references if foreign(r)] == [], url
            assert not any("url(" in style for style in finder.inline), url
            assert "<style" not in response.get_data(as_text=True), url
            checked += 1
    assert checked == 2 * (len(pages) + len(back_office))


def test_stylesheets_and_scripts_reference_nothing_outside():
    for path in STATIC.rglob("*"):
        if path.suffix in {".css", ".js", ".svg"}:
            text = path.read_text()
            assert "@import" not in text, path
            urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", text)
            assert [
                u for u in urls if foreign(u) or (u.startswith("data:") is False and "://" in u)
            ] == [], path
            # Addresses only in comments (the vendored decoder names an article it follows).
            code = "\n".join(
                line for line in text.splitlines() if not line.lstrip().startswith(("//", "*"))
            )
            assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", code), path
    # The decoder from npm (make vendor) is code we did not write: it opens no connection.
    for path in (STATIC / "vendor").rglob("*.js"):
        text = path.read_text()
        for api in ("XMLHttpRequest", "fetch(", "importScripts", "WebSocket", "new Worker"):
            assert api not in text, (path, api)


def test_responses_forbid_third_party_content(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
