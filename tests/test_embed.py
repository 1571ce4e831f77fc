"""The dates widget partner websites embed: only the sites an admin listed may frame it, it
sizes itself, opens registrations in a new tab, and is accessible inside the frame."""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.models import Organisation, OrganisationKind, Role, Visibility
from eventsapp.services import registrations as rules
from tests.conftest import csrf_token, free_port, login
from tests.factories import applicant, make_format, make_organisation, make_session, make_user
from tests.test_accessibility import violations


def _programme(app) -> dict:
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, slug="polizei", name="Polizei Dortmund")
        partner = make_organisation(OrganisationKind.PARTNER, slug="vmdo", name="VMDO e. V.")
        format = make_format(host, slug="blick", title="Blick in die Organisation")
        format.translations = {"ar": {"title": "نظرة داخل المنظمة"}}
        hidden = make_format(host, slug="intern", title="Intern", visibility=Visibility.PARTNERS)
        first = make_session(format, capacity=2, host_organisation=partner)
        second = make_session(
            format, capacity=1, host_organisation=partner, starts_at=utcnow() + timedelta(days=21)
        )
        make_session(format, capacity=5, starts_at=utcnow() + timedelta(days=28))  # at the police
        make_session(hidden, host_organisation=partner, starts_at=utcnow() + timedelta(days=30))
        rules.register_for_session(second, applicant("voll"), now=utcnow())
        make_user(Role.ADMIN, email="admin@example.org")
        db.session.commit()
        return {"first": first.id, "second": second.id, "partner": partner.id}


def _admin(app):
    client = app.test_client()
    assert login(client, "admin@example.org").status_code == 303
    return client


def _save_origins(client, organisation_id: int, origins: str, lang: str = "de"):
    page = f"/admin/organisations/{organisation_id}/edit"
    return client.post(
        f"{page}?lang={lang}",
        data={
            "csrf_token": csrf_token(client, page),
            "name": "VMDO e. V.",
            "kind": "partner",
            "language": "de",
            "embed_origins": origins,
        },
    )


def _frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part for part in policy.split("; ") if part.startswith("frame-ancestors"))


def test_only_listed_sites_may_frame_the_widget_and_nothing_else_is_framable(app):
    ids = _programme(app)
    client = app.test_client()
    widget = client.get("/embed/organisations/vmdo?lang=ar")
    assert widget.status_code == 200
    assert _frame_ancestors(widget) == "frame-ancestors 'self'"  # nobody listed yet
    assert "X-Frame-Options" not in widget.headers
    assert "Set-Cookie" not in widget.headers  # no cookie of ours on another site
    html = widget.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html
    assert html.count('target="_blank" rel="noopener"') == 3  # two dates and "all dates"
    assert f'/sessions/{ids["first"]}?lang=ar"' in html
    assert "Intern" not in html  # a partners-only format is never in the widget
    assert "<form" not in html

    admin = _admin(app)
    response = _save_origins(
        admin,
        ids["partner"],
        " https://VMDO.example/ \r\nhttp://127.0.0.1:8081\nhttps://vmdo.example",
    )
    assert response.status_code == 303
    widget = client.get("/embed/organisations/vmdo")
    assert (
        _frame_ancestors(widget)
        == "frame-ancestors 'self' https://vmdo.example http://127.0.0.1:8081"
    )
    # The format's widget may be framed by its host's and every partner's listed sites.
    assert "https://vmdo.example" in _frame_ancestors(client.get("/embed/formats/blick"))
    assert client.get("/embed/formats/intern").status_code == 404
    assert client.get("/embed/organisations/nobody").status_code == 404

    # Every other page still refuses every frame.
    for url in ("/", f"/sessions/{ids['first']}", "/organisations/vmdo", "/formats/blick"):
        response = client.get(url)
        assert _frame_ancestors(response) == "frame-ancestors 'none'", url
        assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "line",
    [
        "javascript:alert(1)",
        "https://vmdo.example/termine",
        "vmdo.example",
        "https://*.vmdo.example",
        "https://a b.example",
        "ftp://vmdo.example",
    ],
)
def test_a_line_that_is_not_a_website_is_refused_next_to_the_field(app, line):
    ids = _programme(app)
    admin = _admin(app)
    response = _save_origins(admin, ids["partner"], f"https://ok.example\n{line}", lang="en")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="embed_origins-error"' in html
    assert "is not a website address" in html
    with app.app_context():
        organisation = db.session.execute(
            select(Organisation).where(Organisation.slug == "vmdo")
        ).scalar_one()
        assert organisation.embed_origins == ""


def test_admin_and_organiser_pages_show_the_code_and_a_live_preview(app):
    ids = _programme(app)
    admin = _admin(app)
    _save_origins(admin, ids["partner"], "https://vmdo.example")
    html = admin.get(f"/admin/organisations/{ids['partner']}/edit").get_data(as_text=True)
    code = html.split('id="embed-code"', 1)[1].split("</textarea>", 1)[0]
    assert "&lt;iframe data-eventsapp src=&#34;" in code
    assert f"{app.config['EVENTSAPP_BASE_URL']}/embed/organisations/vmdo&#34;" in code
    assert "/static/embed-host.js&#34; async&gt;&lt;/script&gt;" in code
    assert 'class="embed-preview" src="/embed/organisations/vmdo"' in html
    assert "https://vmdo.example</code>" in html


class _Site:
    """A second website on another local port, serving the page that embeds the widget."""

    def __init__(self, directory, html: str) -> None:
        (directory / "index.html").write_text(html, encoding="utf-8")
        self.port = free_port()
        handler = partial(SimpleHTTPRequestHandler, directory=str(directory))
        handler.log_message = lambda *args: None
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/index.html"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _snippet(app) -> str:
    with app.test_request_context():
        from eventsapp.urls import embed_snippet

        return embed_snippet("embed.organisation_dates", "Termine bei VMDO", slug="vmdo")


def test_a_listed_site_shows_the_widget_sized_and_an_unlisted_one_is_refused(
    live_app, browser, tmp_path
):
    app, base = live_app
    ids = _programme(app)
    snippet = _snippet(app)
    page_html = (
        "<!doctype html><html lang='de'><title>Partner</title>"
        f"<body><h1>VMDO</h1>{snippet}<p>Ende</p></body></html>"
    )
    (tmp_path / "listed").mkdir()
    (tmp_path / "unlisted").mkdir()
    listed = _Site(tmp_path / "listed", page_html)
    unlisted = _Site(tmp_path / "unlisted", page_html)
    try:
        with app.app_context():
            organisation = db.session.get(Organisation, ids["partner"])
            organisation.embed_origins = listed.origin
            db.session.commit()
        context = browser.new_context(locale="de-DE")  # the widget speaks the visitor's language
        page = context.new_page()
        page.goto(listed.url)
        frame = page.frame_locator("iframe[data-eventsapp]")
        expect(frame.get_by_role("heading", name="Termine bei VMDO e. V.")).to_be_visible()
        expect(frame.get_by_role("link", name="Zur Warteliste")).to_be_visible()
        # It sizes itself: the frame takes the content's height, not the fallback's 420 px.
        iframe = page.locator("iframe[data-eventsapp]")
        page.wait_for_function(
            "document.querySelector('iframe').getBoundingClientRect().height !== 420"
        )
        height = iframe.evaluate("f => f.getBoundingClientRect().height")
        content = (
            page.frame_locator("iframe")
            .locator(".embed")
            .evaluate("e => e.getBoundingClientRect().height")
        )
        assert abs(height - content) <= 2 and height < 420
        # The registration opens in a new tab, on the session's page.
        with context.expect_page() as opened:
            frame.get_by_role("link", name="Zur Anmeldung").first.click()
        new_tab = opened.value
        new_tab.wait_for_load_state()
        assert new_tab.url == f"{base}/sessions/{ids['first']}?lang=de"
        expect(new_tab.get_by_role("heading", name="Anmeldung")).to_be_visible()

        # An unlisted site: the browser refuses to show our page in its frame.
        refused: list[str] = []
        other = context.new_page()
        other.on("console", lambda message: refused.append(message.text))
        other.goto(unlisted.url)
        other.wait_for_timeout(500)
        expect(other.frame_locator("iframe[data-eventsapp]").get_by_role("heading")).to_have_count(
            0
        )
        embedded = [f for f in other.frames if f != other.main_frame]
        assert embedded and all(
            "/embed/" not in f.url or f.url.startswith("chrome-error") for f in embedded
        )
        # Chromium's own words: "Framing '<our site>' violates … frame-ancestors … blocked."
        assert any(
            f"Framing '{base}/'" in text and "frame-ancestors" in text and "blocked" in text
            for text in refused
        ), refused
        context.close()
    finally:
        listed.close()
        unlisted.close()


@pytest.mark.parametrize("language", ["de", "ar"])
@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_widget_has_no_wcag_violations_inside_the_frame(
    live_app, browser, tmp_path, language, width, theme
):
    app, _base = live_app
    ids = _programme(app)
    with app.test_request_context():
        from eventsapp.urls import embed_snippet

        frames = embed_snippet(
            "embed.organisation_dates", "Termine", slug="vmdo", lang=language
        ) + embed_snippet("embed.format_dates", "Blick", slug="blick", lang=language)
    site = _Site(tmp_path, f"<!doctype html><html lang='de'><title>Partner</title><body>{frames}")
    try:
        with app.app_context():
            db.session.get(Organisation, ids["partner"]).embed_origins = site.origin
            db.session.commit()
        context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=theme)
        page = context.new_page()
        page.goto(site.url)
        for frame_element in page.locator("iframe[data-eventsapp]").all():
            expect(
                page.frame_locator(
                    f"iframe[src='{frame_element.get_attribute('src')}']"
                ).get_by_role("heading")
            ).to_be_visible()
        embedded = [frame for frame in page.frames if "/embed/" in frame.url]
        assert len(embedded) == 2
        for frame in embedded:
            assert violations(frame) == [], (frame.url, language, width, theme)
            assert frame.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        context.close()
    finally:
        site.close()
