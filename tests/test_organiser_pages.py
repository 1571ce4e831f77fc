"""The back office over HTTP: forms refuse bad input without writing, lists and exports work."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.models import (
    Contingent,
    Format,
    OrganisationKind,
    Registration,
    Session,
    SessionStatus,
)
from eventsapp.services import registrations as rules
from tests.conftest import csrf_token
from tests.factories import applicant, make_organisation, make_session


def _state(app) -> tuple:
    with app.app_context():
        return tuple(
            db.session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Format, Session, Registration, Contingent)
        ) + tuple(
            db.session.execute(
                select(
                    Session.starts_at, Session.capacity, Session.sequence, Session.status
                ).order_by(Session.id)
            ).all()
        )


def _format_data(office, **values) -> dict:
    data = {
        "title": "Blick hinter die Kulissen",
        "summary": "",
        "description": "Text",
        "host_organisation": office["host"],
        "venue_name": "Präsidium",
        "venue_address": "",
        "duration_minutes": "120",
        "capacity": "20",
        "visibility": "public",
        "feedback_audience": "attended",
        "feedback_delay_hours": "3",
        "csrf_token": csrf_token(office["client"], "/organiser/formats/new"),
    }
    data.update(values)
    return data


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"title": ""}, "Bitte füllen Sie dieses Feld aus."),
        ({"title": "x" * 10_000}, "Bitte höchstens 200 Zeichen."),
        ({"capacity": "-1"}, "Bitte eine Zahl von 1 bis 10000."),
        ({"capacity": str(10**12)}, "Bitte eine Zahl von 1 bis 10000."),
        ({"capacity": "zwanzig"}, "Bitte geben Sie eine ganze Zahl an."),
        ({"duration_minutes": "0"}, "Bitte eine Zahl von 15 bis 1440."),
        ({"host_organisation": "999999"}, "Bitte wählen Sie eine Organisation aus der Liste."),
        ({"visibility": "secret"}, "Bitte wählen Sie einen Eintrag aus der Liste."),
        ({"description": "a\x00b"}, "unzulässige Steuerzeichen"),
    ],
)
def test_format_form_refuses_bad_input(app, office, values, message):
    before = _state(app)
    response = office["client"].post("/organiser/formats/new", data=_format_data(office, **values))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _state(app) == before


def test_organiser_cannot_host_a_format_at_another_organisation(app, office):
    with app.app_context():
        other = make_organisation(OrganisationKind.HOST).id
        db.session.commit()
    before = _state(app)
    response = office["client"].post(
        "/organiser/formats/new", data=_format_data(office, host_organisation=other)
    )
    assert response.status_code == 422
    assert _state(app) == before


def _schedule_data(office, **values) -> dict:
    data = {
        "kind": "monthly",
        "interval": "1",
        "weekday": "1",
        "nth": "2",
        "start_date": "2027-01-01",
        "start_time": "18:00",
        "end": "until",
        "count": "",
        "until": "2027-12-31",
        "dates": "",
        "action": "preview",
        "csrf_token": csrf_token(office["client"], "/organiser/formats/new"),
    }
    data.update(values)
    return data


def test_schedule_preview_lists_dates_and_creates_nothing(app, office):
    url = f"/organiser/formats/{office['format']}/schedule"
    before = _state(app)
    response = office["client"].post(url, data=_schedule_data(office))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Vorschau: 12 Termine" in body
    assert "Di., 12.01.2027, 18:00" in body and "Di., 13.04.2027, 18:00" in body
    assert _state(app) == before
    response = office["client"].post(url, data=_schedule_data(office, action="create"))
    assert response.status_code == 303
    with app.app_context():
        drafts = (
            db.session.execute(select(Session).where(Session.status == SessionStatus.DRAFT))
            .scalars()
            .all()
        )
        assert len(drafts) == 12


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"until": "2026-01-01"}, "Das Ende liegt vor dem ersten Tag."),
        ({"until": ""}, "Bitte geben Sie das Enddatum an"),
        ({"end": "count", "count": "500"}, "Bitte eine Zahl von 1 bis 200."),
        ({"kind": "weekly", "weekday": "0", "until": "2031-12-31"}, "mehr als 200 Termine"),
        ({"start_time": "25:00"}, "Bitte geben Sie eine gültige Uhrzeit an"),
        ({"start_date": "gestern"}, "Bitte geben Sie ein gültiges Datum an"),
        ({"kind": "dates", "dates": "14.01.2027\nirgendwann"}, "ist kein Datum"),
        ({"kind": "dates", "dates": "29.03.2026", "start_time": "02:30"}, "Uhr vorgestellt"),
        ({"kind": "weekly", "weekday": "9"}, "Bitte wählen Sie einen Eintrag aus der Liste."),
        ({"kind": "sometimes"}, "Bitte wählen Sie einen Eintrag aus der Liste."),
    ],
)
def test_schedule_form_refuses_bad_input(app, office, values, message):
    url = f"/organiser/formats/{office['format']}/schedule"
    before = _state(app)
    data = _schedule_data(office, action="create", **values)
    response = office["client"].post(url, data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:200]
    assert message in body
    assert _state(app) == before


def _session_data(office, **values) -> dict:
    data = {
        "start_date": (date.today() + timedelta(days=20)).isoformat(),
        "start_time": "18:00",
        "end_time": "20:00",
        "scope": "this",
        "venue_name": "Präsidium",
        "venue_address": "",
        "host_organisation": office["host"],
        "capacity": "3",
        "languages": ["de", "tr"],
        "interpreting": "",
        "note": "",
        "csrf_token": csrf_token(office["client"], "/organiser/formats/new"),
    }
    data.update(values)
    return data


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"end_time": "17:00"}, "Das Ende muss nach dem Beginn liegen."),
        ({"capacity": "-1"}, "Bitte eine Zahl von 1 bis 10000."),
        ({"capacity": str(10**12)}, "Bitte eine Zahl von 1 bis 10000."),
        ({"host_organisation": "424242"}, "Bitte wählen Sie eine Organisation aus der Liste."),
        ({"languages": ["xx"]}, "Bitte nur Sprachen aus der Liste."),
        ({"start_date": "2026-03-29", "start_time": "02:30", "end_time": "04:00"}, "vorgestellt"),
        ({"start_date": "2020-01-01"}, "in der Vergangenheit"),
        ({"venue_name": "x" * 10_000}, "Bitte höchstens 200 Zeichen."),
    ],
)
def test_session_form_refuses_bad_input(app, office, values, message):
    url = f"/organiser/sessions/{office['session']}/edit"
    before = _state(app)
    response = office["client"].post(url, data=_session_data(office, **values))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _state(app) == before


def test_capacity_below_seats_taken_is_refused(app, office):
    with app.app_context():
        session = db.session.get(Session, office["session"])
        for n in range(3):
            rules.register_for_session(session, applicant(n), now=utcnow())
        db.session.commit()
    before = _state(app)
    response = office["client"].post(
        f"/organiser/sessions/{office['session']}/edit", data=_session_data(office, capacity="2")
    )
    assert response.status_code == 422
    assert "3 Plätze sind schon vergeben" in response.get_data(as_text=True)
    assert _state(app) == before


def test_registration_list_search_and_manual_add(app, office):
    client = office["client"]
    url = f"/organiser/sessions/{office['session']}"
    token = csrf_token(client, url)
    for name, email in (("Ayşe Yılmaz", "ayse@example.org"), ("فاطمة الحسن", "fatima@example.org")):
        response = client.post(
            f"{url}/registrations",
            data={
                "name": name,
                "email": email,
                "organisation": "",
                "language": "de",
                "csrf_token": token,
            },
        )
        assert response.status_code == 303
    duplicate = client.post(
        f"{url}/registrations",
        data={"name": "Ayşe", "email": "AYSE@example.org", "language": "de", "csrf_token": token},
    )
    assert duplicate.status_code == 409
    assert "schon angemeldet" in duplicate.get_data(as_text=True)
    page = client.get(url + "?q=fatima").get_data(as_text=True)
    assert "فاطمة الحسن" in page and "Ayşe Yılmaz" not in page
    page = client.get(url + "?q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert "Keine Anmeldungen gefunden." in page


def test_csv_export_round_trips_umlauts_and_arabic(app, office):
    names = ["Jürgen Größe", "فاطمة الحسن", "Олена Коваленко", '=HYPERLINK("x")']
    with app.app_context():
        session = db.session.get(Session, office["session"])
        session.capacity = 10
        for n, name in enumerate(names):
            rules.register_for_session(
                session, applicant(n, name=name, organisation_name="Verein ä"), now=utcnow()
            )
        db.session.commit()
    response = office["client"].get(f"/organiser/sessions/{office['session']}/registrations.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel then reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Name", "E-Mail", "Organisation", "Status", "Angemeldet am", "Anwesend"]
    assert [r[0] for r in rows[1:]] == [*names[:3], '\'=HYPERLINK("x")']
    assert {r[2] for r in rows[1:]} == {"Verein ä"}
    assert {r[3] for r in rows[1:]} == {"bestätigt"}


def test_check_in_at_the_door(app, office):
    with app.app_context():
        session = db.session.get(Session, office["session"])
        registration = rules.register_for_session(session, applicant(1), now=utcnow())
        db.session.commit()
        registration_id = registration.id
    client = office["client"]
    page = client.get(f"/organiser/sessions/{office['session']}/checkin")
    assert "Anwesend: 0 von 1" in page.get_data(as_text=True)
    token = csrf_token(client, f"/organiser/sessions/{office['session']}/checkin")
    response = client.post(
        f"/organiser/registrations/{registration_id}/attendance",
        data={"attended": "1", "back": "checkin", "csrf_token": token},
    )
    assert response.status_code == 303 and "/checkin" in response.headers["Location"]
    page = client.get(f"/organiser/sessions/{office['session']}/checkin")
    assert "Anwesend: 1 von 1" in page.get_data(as_text=True)


def test_cancel_session_needs_a_reason(app, office):
    client = office["client"]
    url = f"/organiser/sessions/{office['session']}/cancel"
    token = csrf_token(client, f"/organiser/sessions/{office['session']}")
    before = _state(app)
    response = client.post(url, data={"reason": "  ", "csrf_token": token})
    assert response.status_code == 422
    assert "Bitte nennen Sie einen Grund." in response.get_data(as_text=True)
    assert _state(app) == before
    data = {"reason": "Sturmwarnung", "csrf_token": token, "confirmed": "1"}
    assert client.post(url, data=data).status_code == 303
    public = app.test_client().get(f"/sessions/{office['session']}").get_data(as_text=True)
    assert "Dieser Termin ist abgesagt." in public and "Sturmwarnung" in public


def test_publishing_selected_drafts_over_http(app, office):
    with app.app_context():
        format = db.session.get(Format, office["format"])
        drafts = [
            make_session(
                format, status=SessionStatus.DRAFT, starts_at=utcnow() + timedelta(days=30 + i)
            )
            for i in range(3)
        ]
        db.session.commit()
        ids = [d.id for d in drafts]
    client = office["client"]
    url = f"/organiser/formats/{office['format']}"
    token = csrf_token(client, url)
    nothing = client.post(url + "/publish", data={"csrf_token": token})
    assert nothing.status_code == 422
    foreign = client.post(
        url + "/publish", data={"sessions": [office["session"]], "csrf_token": token}
    )
    assert foreign.status_code == 422  # not a draft of this format
    done = client.post(url + "/publish", data={"sessions": ids[:2], "csrf_token": token})
    assert done.status_code == 303
    with app.app_context():
        statuses = [db.session.get(Session, i).status for i in ids]
        assert statuses == ["published", "published", "draft"]


def test_format_form_sets_reminders_and_announcement_partners(app, office):
    data = _format_data(
        office,
        reminder_hours="72, 2",
        announce_to="selected",
        announcement_partners=[office["partner"]],
    )
    response = office["client"].post("/organiser/formats/new", data=data)
    assert response.status_code == 303
    with app.app_context():
        format = db.session.execute(
            select(Format).where(Format.title == "Blick hinter die Kulissen")
        ).scalar_one()
        assert format.reminder_minutes == [4320, 120]
        assert not format.announce_to_all_partners
        assert [o.id for o in format.announcement_partners] == [office["partner"]]
    for bad in ("zwei", "0", "100000"):
        response = office["client"].post(
            "/organiser/formats/new", data=_format_data(office, reminder_hours=bad)
        )
        assert response.status_code == 422


def test_format_texts_in_other_languages_fall_back_to_german(app, office):
    client = office["client"]
    url = f"/organiser/formats/{office['format']}/translations"
    response = client.post(
        url,
        data={
            "title_tr": "Polise Bakış",
            "summary_tr": "Vatandaşlar emniyeti ziyaret ediyor.",
            "description_tr": "",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert response.status_code == 303
    with app.app_context():
        format = db.session.get(Format, office["format"])
        assert format.translations == {
            "tr": {
                "title": "Polise Bakış",
                "summary": "Vatandaşlar emniyeti ziyaret ediyor.",
            }
        }
        slug = format.slug
        session = db.session.get(Session, office["session"])
        rules.register_for_session(session, applicant("tr", language="tr"), now=utcnow())
        db.session.commit()
        from eventsapp.mail.delivery import render_deferred
        from eventsapp.models import OutboxMessage

        render_deferred(now=utcnow(), limit=10)  # as the worker does before sending

        mail = db.session.execute(select(OutboxMessage)).scalar_one()
        assert "Polise Bakış" in mail.subject
    visitor = app.test_client()
    assert "Polise Bakış" in visitor.get(f"/formats/{slug}?lang=tr").get_data(as_text=True)
    english = visitor.get(f"/formats/{slug}?lang=en").get_data(as_text=True)
    assert "Blick in die Polizei" in english and "Polise Bakış" not in english
    too_long = client.post(url, data={"title_ar": "x" * 201, "csrf_token": csrf_token(client, url)})
    assert too_long.status_code == 422
