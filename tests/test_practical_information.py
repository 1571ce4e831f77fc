"""What to bring, where to meet, how accessible the venue is, whom to ask: organisers write
it once per format (translated like its other texts), may replace it for one date, and it
reaches the attendee on the session page, in the mails that confirm a place and in the
calendar entry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from icalendar import Calendar

from eventsapp.database import db, utcnow
from eventsapp.mail.notifications import render
from eventsapp.models import Format, OrganisationKind, Session
from eventsapp.services import registrations as rules
from tests.conftest import csrf_token
from tests.factories import applicant, make_format, make_organisation, make_session

FORMAT_PRACTICAL = {
    "what_happens": "Rundgang durch die Leitstelle,\ndanach Gespräch.",
    "what_to_bring": "Personalausweis <b>nicht vergessen</b>",
    "meeting_point": "Haupteingang, am Empfang",
    "step_free": "yes",
    "hearing_loop": "no",
    "accessible_toilet": "",
    "accessibility_note": "Aufzug neben dem Eingang.",
    "contact_name": "Aylin Kaya",
    "contact_phone": "0231 132-0",
    "contact_email": "dialog@polizei.example",
}


def _edit_format(client, format_id: int, **practical) -> object:
    """The format form as an organiser sends it, its other settings unchanged."""
    url = f"/organiser/formats/{format_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "Praktische Hinweise für Teilnehmende" in page
    data = {
        "csrf_token": csrf_token(client, url),
        "title": "Blick in die Polizei",
        "summary": "",
        "description": "",
        "host_organisation": _selected(page, "host_organisation"),
        "venue_name": "Polizeipräsidium",
        "venue_address": "Markgrafenstraße 102, 44139 Dortmund",
        "duration_minutes": "120",
        "capacity": "20",
        "visibility": "public",
        "reminder_hours": "48, 3",
        "announce_to": "all",
        "feedback_delay_hours": "3",
        **practical,
    }
    return client.post(url, data=data)


def _selected(page: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return (
        re.search(r'<option selected value="(\d+)"|<option value="(\d+)"', select)
        .group(0)
        .split('"')[1]
    )


def test_organisers_write_it_once_and_attendees_read_it_on_the_session_page(app, office):
    client = office["client"]
    response = _edit_format(client, office["format"], **FORMAT_PRACTICAL)
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        format = db.session.get(Format, office["format"])
        assert format.what_to_bring == "Personalausweis <b>nicht vergessen</b>"
        assert (format.step_free, format.hearing_loop, format.accessible_toilet) == (
            True,
            False,
            None,
        )

    visitor = app.test_client()
    page = visitor.get(f"/sessions/{office['session']}").get_data(as_text=True)
    assert "Gut zu wissen" in page
    assert "Personalausweis &lt;b&gt;nicht vergessen&lt;/b&gt;" in page  # escaped
    assert "Haupteingang, am Empfang" in page
    assert "Stufenlos erreichbar." in page
    assert "Ohne Induktionsschleife für Hörgeräte." in page
    assert "Toilette" not in page  # not stated: nothing said
    assert 'href="tel:0231132-0"' in page and 'href="mailto:dialog@polizei.example"' in page
    assert "https://www.openstreetmap.org/search?query=Polizeipr%C3%A4sidium" in page
    assert "<iframe" not in page  # a link, no embedded map

    # Shown in the editing form again as it was saved.
    form = client.get(f"/organiser/formats/{office['format']}/edit").get_data(as_text=True)
    radios = re.findall(r'<input[^>]*name="(step_free|hearing_loop)"[^>]*>', form)
    checked = re.findall(r'<input([^>]*name="(?:step_free|hearing_loop)"[^>]*)>', form)
    assert len(radios) == 6
    assert sorted(
        re.search(r'name="(\w+)"', c).group(1) + "=" + re.search(r'value="(\w*)"', c).group(1)
        for c in checked
        if "checked" in c
    ) == [
        "hearing_loop=no",
        "step_free=yes",
    ]


def test_a_wrong_phone_number_is_explained_next_to_the_field_and_saves_nothing(app, office):
    client = office["client"]
    response = _edit_format(
        client, office["format"], **{**FORMAT_PRACTICAL, "contact_phone": "ruf mich an"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="contact_phone-error"' in html
    assert "Bitte nur Ziffern, Leerzeichen, Punkte und die Zeichen + ( ) / -." in html
    with app.app_context():
        assert db.session.get(Format, office["format"]).what_to_bring == ""


def test_translated_texts_and_a_dates_own_german_texts(app, office):
    client = office["client"]
    assert _edit_format(client, office["format"], **FORMAT_PRACTICAL).status_code == 303
    url = f"/organiser/formats/{office['format']}/translations"
    answer = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "what_to_bring_tr": "Kimlik kartınızı getirin",
            "meeting_point_ar": "المدخل الرئيسي",
        },
    )
    assert answer.status_code == 303
    session_url = f"/sessions/{office['session']}"
    turkish = app.test_client().get(f"{session_url}?lang=tr").get_data(as_text=True)
    assert "Kimlik kartınızı getirin" in turkish
    assert "Haupteingang, am Empfang" in turkish  # no Turkish text: the German one
    arabic = app.test_client().get(f"{session_url}?lang=ar").get_data(as_text=True)
    assert "المدخل الرئيسي" in arabic

    # One date meets elsewhere: its own text, in German, marked as German elsewhere.
    edit = f"/organiser/sessions/{office['session']}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert "Praktische Hinweise für diesen Termin" in page
    with app.app_context():
        session = db.session.get(Session, office["session"])
        # An evening that ends on its own day, whatever time the suite runs at (the form
        # has one date for start and end; the fixture's session starts "now" in 14 days).
        evening = datetime.combine(session.local_start.date(), time(18), tzinfo=session.tz)
        session.starts_at = evening.astimezone(UTC)
        session.ends_at = session.starts_at + timedelta(hours=2)
        db.session.commit()
        local = session.local_start
        data = {
            "csrf_token": csrf_token(client, edit),
            "start_date": local.date().isoformat(),
            "start_time": local.strftime("%H:%M"),
            "end_time": session.local_end.strftime("%H:%M"),
            "scope": "this",
            "venue_name": session.venue_name,
            "venue_address": session.venue_address,
            "host_organisation": str(session.host_organisation_id),
            "capacity": str(session.capacity),
            "languages": "de",
            "meeting_point": "Seiteneingang Hohe Straße",
        }
    assert client.post(edit, data=data).status_code == 303
    german = app.test_client().get(session_url).get_data(as_text=True)
    assert "Seiteneingang Hohe Straße" in german and "Haupteingang" not in german
    arabic = app.test_client().get(f"{session_url}?lang=ar").get_data(as_text=True)
    assert '<dd lang="de" dir="ltr">Seiteneingang Hohe Straße</dd>' in arabic
    with app.app_context():
        assert db.session.get(Session, office["session"]).practical == {
            "meeting_point": "Seiteneingang Hohe Straße"
        }


def test_it_is_in_the_mails_that_confirm_a_place_and_in_their_calendar_entry(app, office):
    client = office["client"]
    assert _edit_format(client, office["format"], **FORMAT_PRACTICAL).status_code == 303
    with app.app_context():
        session = db.session.get(Session, office["session"])
        confirmed = rules.register_for_session(session, applicant("a"), now=utcnow())
        session.capacity = 1
        waiting = rules.register_for_session(session, applicant("b"), now=utcnow())
        db.session.commit()
        for template in ("registration_confirmed", "registration_promoted"):
            mail = render(template, confirmed.id, "de", "REQUEST")
            assert "Gut zu wissen" in mail.body_text
            assert "Bitte mitbringen: Personalausweis <b>nicht vergessen</b>" in mail.body_text
            assert "Ansprechperson: Aylin Kaya, 0231 132-0, dialog@polizei.example" in (
                mail.body_text
            )
            assert "Personalausweis &lt;b&gt;nicht vergessen&lt;/b&gt;" in mail.body_html
            event = Calendar.from_ical(mail.ics).walk("VEVENT")[0]
            description = str(event["DESCRIPTION"])
            assert "Treffpunkt: Haupteingang, am Empfang" in description
            assert "Barrierefreiheit: Stufenlos erreichbar." in description
        reminder = render("registration_reminder", confirmed.id, "en", None)
        assert "Good to know" in reminder.body_text  # in the attendee's language
        assert "Personalausweis" in reminder.body_text
        waitlisted = render("registration_waitlisted", waiting.id, "de", None)
        assert "Gut zu wissen" not in waitlisted.body_text  # no place yet: not yet needed


def test_a_format_without_practical_information_shows_no_empty_section(app, client):
    with app.app_context():
        session_id = make_session(venue_name="", venue_address="").id
        db.session.commit()
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "Gut zu wissen" not in page


def test_texts_shown_in_german_on_a_page_in_another_language_are_marked_german(app, client):
    """Screen readers pronounce a German fallback as German, and inside a right-to-left page
    its punctuation stays where it belongs; translated texts are not marked."""
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST)
        format = make_format(
            host,
            slug="blick",
            title="Blick in die Polizei",
            summary="Bürgerinnen und Bürger besuchen das Präsidium.",
            description="Ein Rundgang.",
            what_to_bring="Personalausweis",
            meeting_point="Haupteingang",
            translations={"ar": {"title": "نظرة إلى الشرطة", "what_to_bring": "بطاقة الهوية"}},
        )
        session = make_session(format, note="Bitte pünktlich sein.")
        db.session.commit()
        session_id = session.id
    german = ' lang="de" dir="ltr"'
    arabic = client.get(f"/sessions/{session_id}?lang=ar").get_data(as_text=True)
    assert "<span>نظرة إلى الشرطة</span>" in arabic  # translated: the page's language
    assert f"<dd{german}>Haupteingang</dd>" in arabic  # not translated: German
    assert '<dd class="text">بطاقة الهوية</dd>' in arabic
    assert f"<p{german}>Bitte pünktlich sein.</p>" in arabic  # the date's own note
    page = client.get("/formats/blick?lang=ar").get_data(as_text=True)
    assert f'<p class="lead"{german}>Bürgerinnen und Bürger' in page
    assert f"<p{german}>Ein Rundgang.</p>" in page
    in_german = client.get(f"/sessions/{session_id}?lang=de").get_data(as_text=True)
    assert in_german.count('lang="de" dir="ltr"') == 1  # the page itself only
