"""The back office's tables on a phone (375 px): every row a card, nothing to scroll
sideways, and no word broken in the middle, with long German names and organisations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventsapp.database import db, utcnow
from eventsapp.models import OrganisationKind, Role
from eventsapp.services import contingents
from eventsapp.services import registrations as rules
from tests.factories import (
    PASSWORD,
    applicant,
    make_format,
    make_organisation,
    make_session,
    make_user,
)
from tests.test_accessibility import violations

# Words broken inside: for each word of each table cell (addresses aside), does it sit on
# more than one line? Returns the words that do.
BROKEN_WORDS = """
() => {
  const broken = [];
  for (const cell of document.querySelectorAll('table.list td, table.list th')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('[dir="ltr"], .visually-hidden')) continue;
      const re = /[^\\s\\-]+/g;  // a hyphen is a place to break
      let m;
      while ((m = re.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}
"""


@pytest.fixture
def office(live_app):
    app, base = live_app
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, name="Polizeipräsidium Dortmund")
        partner = make_organisation(
            OrganisationKind.PARTNER,
            name="Verbund sozial-kultureller Migrantenorganisationen Dortmund",
            contact_email="geschaeftsstelle.verbund-migrantenorganisationen@example.org",
        )
        make_user(Role.ORGANISER, host, email="kim@polizei.example", name="Kim Brandt")
        make_user(Role.ADMIN, None, email="admin@polizei.example", name="Alexandra Wiśniewska")
        format = make_format(host, title="Sicherheitspartnerschaftsgespräch im Präsidium")
        session = make_session(format, capacity=2, starts_at=utcnow() + timedelta(days=20))
        contingents.set_contingent(
            session,
            partner,
            seats=1,
            release_at=session.starts_at - timedelta(days=2),
            now=utcnow(),
        )
        for n, name in enumerate(
            (
                "Maximiliane Schwarzenberger-Hohenlohe",
                "Oleksandra Kovalenko-Shevchenko",
                "Abdurrahman Yıldırımoğlu",
            )
        ):
            rules.register_for_session(
                session,
                applicant(
                    n,
                    name=name,
                    email=f"{name.split()[0].lower()}.langer-name@beispiel-verein.example",
                    organisation_name="Interkulturelles Bildungszentrum Nordstadt",
                ),
                now=utcnow(),
            )
        db.session.commit()
        session_id, format_id = session.id, format.id
    return base, {"session": session_id, "format": format_id}


def _sign_in(page, base, email):
    page.goto(f"{base}/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()


@pytest.mark.parametrize("language", ["de", "ar"])
def test_back_office_tables_read_well_on_a_phone(office, browser, language):
    base, ids = office
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="de-DE")
    page = context.new_page()
    found = {}
    _sign_in(page, base, "kim@polizei.example")
    pages = [
        ("dashboard", "/organiser/"),
        ("format", f"/organiser/formats/{ids['format']}"),
        ("session", f"/organiser/sessions/{ids['session']}"),
    ]
    for name, path in pages:
        page.goto(f"{base}{path}?lang={language}")
        assert page.locator("table.list").count() >= 1, name
        found[name] = (
            page.evaluate("document.documentElement.scrollWidth") <= 375,
            page.evaluate(BROKEN_WORDS),
            violations(page),
        )
    page.context.clear_cookies()
    _sign_in(page, base, "admin@polizei.example")
    for name, path in (
        ("accounts", "/admin/users"),
        ("organisations", "/admin/organisations"),
        ("outbox", "/admin/outbox"),
    ):
        page.goto(f"{base}{path}?lang={language}")
        found[name] = (
            page.evaluate("document.documentElement.scrollWidth") <= 375,
            page.evaluate(BROKEN_WORDS),
            violations(page),
        )
    context.close()
    assert {k: v for k, v in found.items() if v != (True, [], [])} == {}


def test_a_row_names_each_value_by_its_column_on_a_phone(office, browser):
    base, ids = office
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="de-DE")
    page = context.new_page()
    _sign_in(page, base, "kim@polizei.example")
    page.goto(f"{base}/organiser/sessions/{ids['session']}")
    row = page.locator("table.list tbody tr").first
    status = row.locator("td[data-label='Status']")
    label = status.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Status: "'
    # Cells are stacked: the status stands below the name, not beside it.
    name_box = row.locator("td").first.bounding_box()
    status_box = status.bounding_box()
    assert status_box["y"] > name_box["y"] and abs(status_box["x"] - name_box["x"]) < 2
    # At desktop width it is an ordinary table again.
    page.set_viewport_size({"width": 1280, "height": 800})
    assert status.evaluate("td => getComputedStyle(td).display") == "table-cell"
    context.close()
