"""Every text of the interface and the mails exists in all six languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "eventsapp" / "translations"
LANGUAGES = ("de", "en", "tr", "ar", "fr", "uk")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [
    ("eventsapp/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def used_msgids() -> set:
    """The msgids the code and templates use right now (not what an old .pot says)."""
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


@pytest.fixture(scope="module")
def msgids() -> set:
    ids = used_msgids()
    assert len(ids) > 300  # the extraction itself works
    return ids


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated(msgids, language):
    with open(CATALOGS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=language)
    missing, empty, fuzzy, broken = [], [], [], []
    for msgid in msgids:
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalog.get(key)
        if message is None:
            missing.append(key)
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            empty.append(key)
        if message.fuzzy:
            fuzzy.append(key)
        expected = set(PLACEHOLDER.findall(key if isinstance(key, str) else key[0]))
        if isinstance(msgid, tuple):
            expected |= set(PLACEHOLDER.findall(msgid[1]))
        for text in strings:
            if text and not set(PLACEHOLDER.findall(text)) <= expected:
                broken.append(key)
    assert missing == [], f"{language}: {len(missing)} texts missing, e.g. {missing[:3]}"
    assert empty == [], f"{language}: {len(empty)} untranslated, e.g. {empty[:3]}"
    assert fuzzy == [], f"{language}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:3]}"
    assert broken == [], f"{language}: placeholders changed in {broken[:3]}"


def test_arabic_pages_are_right_to_left(client):
    html = client.get("/?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert '<html lang="de" dir="ltr">' in client.get("/?lang=de").get_data(as_text=True)


def test_the_chosen_language_is_remembered_and_accept_language_is_honoured(client):
    response = client.get("/?lang=tr")
    assert "lang=tr" in response.headers["Set-Cookie"]
    assert '<html lang="tr"' in client.get("/privacy").get_data(as_text=True)
    fresh = client.application.test_client()
    english = fresh.get("/privacy", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en"' in english.get_data(as_text=True)
    assert '<html lang="de"' in fresh.get("/privacy").get_data(as_text=True)


def test_mails_default_to_the_language_of_the_page(app, client):
    from tests.factories import make_session

    with app.app_context():
        from eventsapp.database import db

        session_id = make_session().id
        db.session.commit()
    html = client.get(f"/sessions/{session_id}?lang=uk").get_data(as_text=True)
    assert re.search(r'<option selected value="uk">|<option value="uk" selected>', html)


@pytest.mark.parametrize("language", ["en", "tr", "ar", "fr", "uk"])
def test_mail_is_written_in_the_recipients_language(ctx, language):
    from flask_babel import force_locale, gettext
    from sqlalchemy import select

    from eventsapp.database import db, utcnow
    from eventsapp.mail.delivery import render_deferred
    from eventsapp.models import OutboxMessage
    from eventsapp.services import registrations as rules
    from tests.factories import applicant, make_session

    session = make_session()
    rules.register_for_session(session, applicant(1, language=language), now=utcnow())
    db.session.commit()
    render_deferred(now=utcnow(), limit=10)  # as the worker does before sending
    mail = db.session.execute(select(OutboxMessage)).scalar_one()
    title = session.format.title
    with force_locale(language):
        expected = gettext("Anmeldung bestätigt: %(title)s", title=title)
        greeting = gettext("Guten Tag %(name)s,", name="Person 1")
    assert expected != f"Anmeldung bestätigt: {title}"
    assert mail.subject == expected
    assert mail.body_text.startswith(greeting)
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in (
        mail.body_html
    )
    assert "Uhr" not in mail.body_text
