"""WCAG 2.1 A/AA checks with axe-core in real Chromium, in German and Arabic, and at 320 px;
and a registration done with the keyboard alone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from eventsapp.database import db, utcnow
from eventsapp.models import AccessPurpose, OrganisationKind, Role
from eventsapp.services import access_links, feeds, scheduling
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.factories import (
    PASSWORD,
    applicant,
    make_format,
    make_organisation,
    make_session,
    make_user,
)

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
axe = Axe()


def violations(page) -> list[str]:
    result = axe.run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
    ]


@pytest.fixture
def site(live_app):
    """A programme with an open, a full and a cancelled session, a registration, and an
    organiser."""
    app, base = live_app
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, slug="polizei", name="Polizei Dortmund")
        format = make_format(
            host,
            slug="blick",
            title="Blick in die Polizei",
            summary="Bürgerinnen und Bürger besuchen das Präsidium.",
            what_to_bring="Personalausweis oder Reisepass",
            meeting_point="Haupteingang, am Empfang",
            step_free=True,
            hearing_loop=False,
            accessibility_note="Aufzug neben dem Eingang.",
            contact_name="Aylin Kaya",
            contact_phone="0231 132-0",
            contact_email="dialog@polizei.example",
            translations={"ar": {"what_to_bring": "بطاقة الهوية أو جواز السفر"}},
        )
        open_session = make_session(format, capacity=20)
        open_session.practical = {"meeting_point": "Seiteneingang Hohe Straße"}  # German only
        full = make_session(format, capacity=1, starts_at=utcnow() + timedelta(days=21))
        rules.register_for_session(full, applicant("voll"), now=utcnow())
        rules.register_for_session(full, applicant("wartend"), now=utcnow())
        cancelled = make_session(format, starts_at=utcnow() + timedelta(days=28))
        scheduling.cancel_session(cancelled, reason="Krankheit", now=utcnow())
        mine = rules.register_for_session(open_session, applicant("ich"), now=utcnow())
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        # The organiser's account page then lists a registration of their own.
        rules.register_for_session(
            full, applicant("kim", email="kim@polizei.example"), now=utcnow()
        )
        calendar = access_links.issue_link(AccessPurpose.CALENDAR, mine.email, now=utcnow())
        feeds.personal_feed_for(mine.email, now=utcnow())
        db.session.commit()
        ids = {
            "open": open_session.id,
            "format": format.id,
            "full": full.id,
            "cancelled": cancelled.id,
            "manage": manage_token(mine),
            "calendar": calendar,
        }
    return base, ids


PUBLIC_PAGES = [
    ("home", "/"),
    ("format", "/formats/blick"),
    ("session open", "/sessions/{open}"),
    ("session full", "/sessions/{full}"),
    ("session cancelled", "/sessions/{cancelled}"),
    ("manage", "/registrations/{manage}"),
    ("registration sent", "/sessions/{open}/registered"),
    ("my calendar", "/my-calendar/{calendar}"),
    ("login", "/auth/login"),
    ("privacy", "/privacy"),
    ("imprint", "/imprint"),
    ("accessibility statement", "/accessibility"),
    ("easy language", "/easy-language"),
    ("organisation", "/organisations/polizei"),
]


@pytest.mark.parametrize("language", ["de", "ar"])
def test_public_pages_have_no_wcag_violations(site, browser, language):
    base, ids = site
    page = browser.new_page(locale="de-DE")
    found = {}
    for name, path in PUBLIC_PAGES:
        page.goto(base + path.format(**ids) + f"?lang={language}")
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        found[name] = violations(page)
    # The registration form sent empty: errors next to the fields.
    page.goto(base + f"/sessions/{ids['open']}?lang={language}")
    page.locator("form[action$='/register'] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    found["registration with errors"] = violations(page)
    # The subscribe form sent: the confirmation notice.
    page.goto(base + f"/formats/blick?lang={language}")
    page.locator("#subscribe input[type=email]").fill("neu@example.org")
    page.locator("#subscribe button[type=submit]").click()
    found["subscribed"] = violations(page)
    page.close()
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("language", ["de", "ar"])
def test_back_office_pages_have_no_wcag_violations(site, browser, language, width):
    base, ids = site
    page = browser.new_page(viewport={"width": width, "height": 800}, locale="de-DE")
    page.goto(base + f"/auth/login?lang={language}")
    page.locator("#email").fill("kim@polizei.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    found = {}
    for path in (
        "/organiser/",
        f"/organiser/sessions/{ids['open']}",
        f"/organiser/sessions/{ids['open']}/checkin",
        "/organiser/calendar",
        "/organiser/formats/new",
        f"/organiser/formats/{ids['format']}",  # with the widget's code and live preview
        f"/organiser/formats/{ids['format']}/edit",
        f"/organiser/formats/{ids['format']}/translations",
        f"/organiser/sessions/{ids['open']}/edit",
        f"/organiser/formats/{ids['format']}/schedule",
        "/auth/account",
    ):
        page.goto(base + path)
        found[path] = violations(page)
    page.close()
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize("language", ["de", "ar"])
def test_pages_work_at_320_pixels_without_horizontal_scrolling(site, browser, language):
    base, ids = site
    page = browser.new_page(viewport={"width": 320, "height": 640}, locale="de-DE")
    for _name, path in PUBLIC_PAGES:
        page.goto(base + path.format(**ids) + f"?lang={language}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, (path, width)
        assert violations(page) == [], path
    page.close()


def test_registering_with_the_keyboard_alone(site, browser):
    base, ids = site
    page = browser.new_page(locale="de-DE")
    page.goto(base + "/")

    def tab_to(selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"could not reach {selector} with Tab")

    tab_to(f"a[href$='/sessions/{ids['open']}']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/sessions/{ids['open']}$"))
    tab_to("#name")
    page.keyboard.type("Serhiy Bondar")
    tab_to("#email")
    page.keyboard.type("serhiy@example.org")
    tab_to("#consent")
    page.keyboard.press("Space")
    tab_to("form[action$='/register'] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Wir haben Ihnen eine E-Mail geschickt.")
    page.close()
