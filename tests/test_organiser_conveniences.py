"""Small things that keep organisers from mistakes: a warning when a date clashes with
another at the same place, how many of a partner's kept seats are left, and a door list
that finds people fast and tells namesakes apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eventsapp.database import db, utcnow
from eventsapp.models import Contingent, Organisation, Session, SessionStatus
from eventsapp.services import registrations as rules
from tests.conftest import csrf_token
from tests.factories import applicant, make_format, make_organisation, make_session
from tests.test_organiser_pages import _schedule_data

CLASH_START = datetime(2027, 1, 12, 17, 30, tzinfo=UTC)  # 18:30 in Dortmund, a Tuesday


def _other_format_at_the_same_place(app, **values) -> int:
    with app.app_context():
        other = make_format(make_organisation(), title="Sprechstunde Integration")
        session = make_session(
            other,
            starts_at=CLASH_START,
            ends_at=CLASH_START + timedelta(hours=1),
            venue_name="polizeipräsidium dortmund",  # spelt differently: the same place
            **values,
        )
        db.session.commit()
        return session.id


def _schedule(office, **values) -> dict:
    """Three monthly dates from the second Tuesday of January 2027, previewed."""
    return _schedule_data(office, end="count", count="3", until="", **values)


def test_the_preview_warns_of_a_date_at_the_same_place_and_time(app, office):
    _other_format_at_the_same_place(app)
    url = f"/organiser/formats/{office['format']}/schedule"
    body = office["client"].post(url, data=_schedule(office)).get_data(as_text=True)
    assert "Vorschau: 3 Termine" in body
    warning = "Achtung: Zur selben Zeit ist am selben Ort „Sprechstunde Integration“ geplant."
    assert body.count(warning) == 1  # 12 January only; February and March are free
    first = body.index("Di., 12.01.2027, 18:00")
    assert first < body.index(warning) < body.index("Di., 09.02.2027, 18:00")
    assert 'action="/organiser/formats/' in body and '/schedule#preview"' in body


def test_a_cancelled_date_elsewhere_is_no_clash(app, office):
    _other_format_at_the_same_place(app, status=SessionStatus.CANCELLED, cancel_reason="x")
    url = f"/organiser/formats/{office['format']}/schedule"
    body = office["client"].post(url, data=_schedule(office)).get_data(as_text=True)
    assert "Achtung" not in body


def test_moving_a_session_onto_another_says_so_after_saving(app, office):
    _other_format_at_the_same_place(app)
    client = office["client"]
    edit = f"/organiser/sessions/{office['session']}/edit"
    with app.app_context():
        session = db.session.get(Session, office["session"])
        data = {
            "csrf_token": csrf_token(client, edit),
            "start_date": "2027-01-12",
            "start_time": "18:00",
            "end_time": "20:00",
            "scope": "this",
            "venue_name": session.venue_name,
            "venue_address": session.venue_address,
            "host_organisation": str(session.host_organisation_id),
            "capacity": str(session.capacity),
            "languages": "de",
        }
    saved = client.post(edit, data=data)
    assert saved.status_code == 303  # a warning, not a refusal
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Änderungen gespeichert." in page
    assert "Zur selben Zeit ist am selben Ort „Sprechstunde Integration“ geplant." in page
    assert 'class="flash flash-warning"' in page


def test_the_contingent_list_shows_the_seats_left(app, office):
    with app.app_context():
        session = db.session.get(Session, office["session"])
        session.capacity = 10
        partner = db.session.get(Organisation, office["partner"])
        db.session.add(
            Contingent(
                session_id=session.id,
                organisation=partner,
                seats=4,
                release_at=utcnow() + timedelta(days=2),
            )
        )
        db.session.flush()
        member = rules.Applicant(
            name="Deniz", email="deniz@vmdo.example", partner_organisation_id=partner.id
        )
        rules.register_for_session(session, member, now=utcnow())
        db.session.commit()
    page = office["client"].get(f"/organiser/sessions/{office['session']}").get_data(as_text=True)
    assert "VMDO: 4 Plätze" in page and "noch 3 frei" in page


def test_the_door_list_is_alphabetical_searchable_and_tells_namesakes_apart(app, office):
    with app.app_context():
        session = db.session.get(Session, office["session"])
        session.capacity = 10
        people = [
            applicant("z", name="Zeynep Yılmaz"),
            applicant("a1", name="Ali Demir", email="ali.demir@example.org"),
            applicant("o", name="Özlem Kaya"),
            applicant(
                "a2", name="Ali Demir", email="a.demir@vmdo.example", organisation_name="VMDO"
            ),
        ]
        registrations = [rules.register_for_session(session, p, now=utcnow()) for p in people]
        registrations[2].attended = True
        db.session.commit()
    url = f"/organiser/sessions/{office['session']}/checkin"
    page = office["client"].get(url).get_data(as_text=True)
    names = [n for n in ("Ali Demir", "Özlem Kaya", "Zeynep Yılmaz") if n in page]
    assert names == ["Ali Demir", "Özlem Kaya", "Zeynep Yılmaz"]
    assert page.index("Ali Demir") < page.index("Özlem Kaya") < page.index("Zeynep Yılmaz")
    assert "…mir@" in page and "VMDO · …mir@" in page  # two Ali Demirs, told apart
    assert "Anwesend: 1 von 4" in page
    assert "✓ anwesend" in page and 'class="present"' in page

    found = office["client"].get(url + "?q=kaya").get_data(as_text=True)
    assert "Özlem Kaya" in found and "Zeynep" not in found and "Ali Demir" not in found
    assert "Anwesend: 1 von 4" in found  # the count stays the whole list's
    nobody = office["client"].get(url + "?q=%3Cscript%3E").get_data(as_text=True)
    assert "Niemand gefunden." in nobody and "<script>" not in nobody
