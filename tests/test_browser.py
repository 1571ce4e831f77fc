"""A person registers in a real browser, gets the mail, and cancels with its link."""

from __future__ import annotations

import re

from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.models import OrganisationKind, Registration, Role, Session
from eventsapp.services import registrations as rules
from tests.factories import (
    PASSWORD,
    applicant,
    make_format,
    make_organisation,
    make_session,
    make_user,
)


def test_register_get_mail_and_cancel_in_chromium(live_app, smtp_server, browser):
    """A German attendee's journey on a phone (375 px): a full session, errors next to the
    fields, the waitlist, the mail with the place in line, promotion, cancelling."""
    app, base = live_app
    with app.app_context():
        session = make_session(make_format(title="Blick in die Polizei"), capacity=1)
        holder = rules.register_for_session(session, applicant("holder"), now=utcnow())
        db.session.commit()
        session_id, holder_id = session.id, holder.id

    page = browser.new_page(viewport={"width": 375, "height": 740}, locale="de-DE")
    page.goto(f"{base}/")
    page.get_by_role(
        "link",
        name=re.compile(
            "Dezember|Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November"
        ),
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Blick in die Polizei")
    expect(page.get_by_text("Ausgebucht")).to_be_visible()

    # Submitting without anything shows the errors next to the fields, in German.
    page.get_by_role("button", name="Auf die Warteliste setzen").click()
    expect(page.get_by_text("Bitte geben Sie Ihren Namen an.").first).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Name", exact=True).fill("Olena Kovalenko")
    page.get_by_label("E-Mail-Adresse", exact=True).fill("olena@example.org")
    page.get_by_label(re.compile("Ich bin einverstanden")).check()
    page.get_by_role("button", name="Auf die Warteliste setzen").click()
    # The page says only that a mail is on its way; the mail tells the place in line.
    expect(page.get_by_role("status")).to_contain_text("Wir haben Ihnen eine E-Mail geschickt.")
    with app.app_context():
        deliver_due(now=utcnow())
    (waitlist_mail,) = smtp_server.sink.to("olena@example.org")
    text = waitlist_mail.get_body(("plain",)).get_content()
    page.goto(re.search(r"http://\S+/registrations/\S+", text).group(0))
    expect(page.get_by_role("status")).to_contain_text("auf Platz 1")

    # The seat holder cancels; the waiting person is promoted and mailed.
    with app.app_context():
        rules.cancel_registration(db.session.get(Registration, holder_id), now=utcnow())
        db.session.commit()
        deliver_due(now=utcnow())
    mails = smtp_server.sink.to("olena@example.org")
    assert [m["Subject"] for m in mails] == [
        "Warteliste: Blick in die Polizei",
        "Ein Platz ist frei geworden: Blick in die Polizei",
    ]
    link = re.search(r"http://\S+/registrations/\S+", mails[1].get_body(("plain",)).get_content())
    page.goto(link.group(0))
    expect(page.get_by_role("status")).to_contain_text("Sie sind angemeldet.")

    page.get_by_role("button", name="Anmeldung stornieren").click()
    page.get_by_role("button", name="Ja, stornieren").click()
    expect(page.get_by_text("Diese Anmeldung ist storniert.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    with app.app_context():
        deliver_due(now=utcnow())
        assert rules.seat_counts(db.session.get(Session, session_id), now=utcnow()).taken == 0
    assert smtp_server.sink.to("olena@example.org")[-1]["Subject"].startswith("Stornierung")
    page.close()


def test_organiser_plans_and_publishes_three_dates_that_citizens_then_see(live_app, browser):
    app, base = live_app
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, name="Polizeipräsidium Dortmund")
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        db.session.commit()

    organiser = browser.new_context(locale="de-DE")
    page = organiser.new_page()
    page.goto(f"{base}/auth/login")
    page.get_by_label("E-Mail-Adresse").fill("kim@polizei.example")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Einloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Übersicht")

    page.get_by_role("link", name="Neues Format").first.click()
    page.get_by_label("Titel").fill("Blick in die Leitstelle")
    page.get_by_label("Kurzbeschreibung").fill("Wie ein Notruf bearbeitet wird.")
    page.get_by_label("Ort (Name)").fill("Polizeipräsidium Dortmund")
    page.get_by_label("Adresse").fill("Markgrafenstraße 102, 44139 Dortmund")
    page.get_by_label("Plätze").fill("18")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Termine planen")

    page.get_by_label("monatlich an einem Wochentag").check()
    # Only the chosen rule's fields show (CSS, no script): no weeks, no list of dates.
    expect(page.get_by_role("group", name="Wöchentlich")).to_be_hidden()
    expect(page.get_by_role("group", name="Einzelne Daten")).to_be_hidden()
    page.get_by_label("Am", exact=True).select_option(label="zweiten")
    page.get_by_label("Wochentag", exact=True).select_option(label="Dienstag")
    page.get_by_label("Beginn (Uhrzeit)").fill("18:00")
    page.get_by_label("nach einer Anzahl von Terminen").check()
    expect(page.get_by_label("Letzter möglicher Tag")).to_be_hidden()
    page.get_by_label("Anzahl der Termine").fill("3")
    page.get_by_role("button", name="Vorschau").click()
    expect(page.get_by_role("heading", name="Vorschau: 3 Termine")).to_be_in_viewport()
    assert page.url.endswith("#preview")  # the browser goes to the preview, not the top
    expect(page.locator(".preview-list li")).to_have_count(3)
    page.get_by_role("button", name="Als Entwürfe anlegen").click()

    expect(page.get_by_text("3 Termine als Entwurf angelegt")).to_be_visible()
    expect(page.locator("#sessions input[type=checkbox]")).to_have_count(3)
    expect(page.locator("#sessions input[type=checkbox]:checked")).to_have_count(0)
    page.get_by_role("button", name="Alle 3 Entwürfe veröffentlichen").click()
    expect(page.get_by_text("3 Termine veröffentlicht.")).to_be_visible()
    organiser.close()

    citizen = browser.new_page(locale="de-DE")
    citizen.goto(f"{base}/")
    section = citizen.locator("section.format", has_text="Blick in die Leitstelle")
    expect(section.locator(".session-card")).to_have_count(3)
    expect(section.locator(".session-meta").first).to_contain_text("18:00")
    expect(section.locator(".badge-open").first).to_have_text("18 Plätze frei")
    citizen.close()


def test_an_attendee_in_arabic_on_a_phone(live_app, smtp_server, browser):
    """Registers at 375 px in Arabic, reads the practical information, opens the mailed
    link in another browser (no language cookie) and finds the page in Arabic, then
    cancels through the confirmation step."""
    app, base = live_app
    with app.app_context():
        format = make_format(
            title="Blick in die Polizei",
            what_to_bring="Personalausweis",
            translations={"ar": {"title": "نظرة إلى الشرطة", "what_to_bring": "بطاقة الهوية"}},
        )
        session_id = make_session(format, capacity=5).id
        db.session.commit()

        def ar(text: str) -> str:
            with force_locale("ar"):
                return gettext(text)

        register = ar("Verbindlich anmelden")
        sent = ar("Wir haben Ihnen eine E-Mail geschickt.")
        good_to_know = ar("Gut zu wissen")
        signed_up = ar("Sie sind angemeldet.")
        cancel = ar("Anmeldung stornieren")
        yes = ar("Ja, stornieren")
        cancelled = ar("Diese Anmeldung ist storniert.")
    assert register != "Verbindlich anmelden"  # the catalog is there

    phone = {"viewport": {"width": 375, "height": 740}, "locale": "ar"}
    context = browser.new_context(**phone)
    page = context.new_page()
    page.goto(f"{base}/sessions/{session_id}?lang=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_contain_text("نظرة إلى الشرطة")
    expect(page.get_by_role("heading", name=good_to_know)).to_be_visible()
    expect(page.get_by_text("بطاقة الهوية")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.locator("#name").fill("ليلى حسن")
    page.locator("#email").fill("layla@example.org")
    page.locator("#consent").check()
    page.get_by_role("button", name=register).click()
    expect(page.get_by_role("status")).to_contain_text(sent)
    assert page.url.endswith(f"/sessions/{session_id}/registered")
    context.close()

    with app.app_context():
        deliver_due(now=utcnow())
    (mail,) = smtp_server.sink.to("layla@example.org")
    text = mail.get_body(("plain",)).get_content()
    assert good_to_know in text and "بطاقة الهوية" in text
    link = re.search(r"http://\S+/registrations/\S+", text).group(0)
    assert link.endswith("?lang=ar")  # opens in the mail's language

    # Another browser, German by its settings: the page is in the mail's language.
    other = browser.new_context(viewport={"width": 375, "height": 740}, locale="de-DE")
    page = other.new_page()
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.get_by_role("status")).to_contain_text(signed_up)
    page.get_by_role("button", name=cancel).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.get_by_role("button", name=yes).click()
    expect(page.get_by_text(cancelled)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    other.close()
