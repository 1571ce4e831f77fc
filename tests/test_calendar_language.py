"""Calendar text in the recipient's language: an Arabic registrant's invitation,
cancellation and personal feed carry Arabic SUMMARY text, and the links in their mails open
the pages in Arabic."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.models import AccessPurpose, Registration, Session
from eventsapp.services import access_links, feeds, scheduling
from eventsapp.services import registrations as rules
from tests.conftest import csrf_token
from tests.factories import applicant, make_format, make_session

TITLE_AR = "نظرة إلى الشرطة"
SUMMARY_AR = "تعرفوا على عمل الشرطة من الداخل."
WAITING_AR = f"قائمة الانتظار: {TITLE_AR}"  # "Warteliste: …" in the ar catalog
CANCELLED_AR = f"تم الإلغاء: {TITLE_AR}"  # "Abgesagt: …"
EMAIL = "person-ar@example.org"


def _calendar(message):
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return parts[0] if parts else None


def _summaries(ics: str) -> set[str]:
    return {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")}


def _invitations(smtp_server) -> list:
    return [m for m in smtp_server.sink.to(EMAIL) if _calendar(m) is not None]


def test_an_arabic_registrant_gets_arabic_calendar_text(mail_app, smtp_server):
    app = mail_app
    with app.app_context():
        format = make_format(
            title="Blick in die Polizei",
            summary="Ein Blick hinter die Kulissen.",
            translations={"ar": {"title": TITLE_AR, "summary": SUMMARY_AR}},
        )
        first = make_session(format, capacity=1)
        full = make_session(format, capacity=1, starts_at=first.starts_at + timedelta(days=1))
        called_off = make_session(format, starts_at=first.starts_at + timedelta(days=2))
        rules.register_for_session(full, applicant("seat"), now=utcnow())
        for session in (first, full, called_off):
            rules.register_for_session(
                session, applicant("ar", email=EMAIL, language="ar"), now=utcnow()
            )
        db.session.commit()
        assert deliver_due(now=utcnow()).sent == 4
        ids = first.id, full.id, called_off.id

    # Confirmations: title, summary and link in Arabic.
    confirmed = _invitations(smtp_server)
    assert len(confirmed) == 2  # the waitlist mail invites to nothing
    for message in confirmed:
        (event,) = icalendar.Calendar.from_ical(_calendar(message).get_content()).walk("VEVENT")
        assert str(event["SUMMARY"]) == TITLE_AR
        assert SUMMARY_AR in str(event["DESCRIPTION"])
        assert "?lang=ar" in str(event["URL"])
        text = message.get_body(("plain",)).get_content()
        assert re.search(r"/registrations/\S+\?lang=ar", text)

    # The personal feed, set up on the page in Arabic, is written in Arabic.
    client = app.test_client()
    with app.app_context():
        token = access_links.issue_link(AccessPurpose.CALENDAR, EMAIL, now=utcnow())
        db.session.commit()
    page = f"/my-calendar/{token}?lang=ar"
    assert client.post(page, data={"csrf_token": csrf_token(client, page)}).status_code == 303
    with app.app_context():
        feed = feeds.find_personal_feed_by_email(EMAIL)
        assert feed.language == "ar"
        url = f"/feeds/{feeds.feed_token(feed)}.ics"
    assert _summaries(app.test_client().get(url).get_data(as_text=True)) == {
        TITLE_AR,
        WAITING_AR,
    }

    # Cancelling their place uninvites them in Arabic; a date called off says so in Arabic.
    with app.app_context():
        mine = db.session.query(Registration).filter_by(session_id=ids[0], email=EMAIL).one()
        rules.cancel_registration(mine, now=utcnow())
        scheduling.cancel_session(db.session.get(Session, ids[2]), reason="Umbau", now=utcnow())
        db.session.commit()
        deliver_due(now=utcnow())
    uninvited, called_off_mail = _invitations(smtp_server)[2:]
    assert _calendar(uninvited).get_param("method") == "CANCEL"
    assert _summaries(_calendar(uninvited).get_content()) == {TITLE_AR}
    assert _calendar(called_off_mail).get_param("method") == "CANCEL"
    assert _summaries(_calendar(called_off_mail).get_content()) == {CANCELLED_AR}
