"""The account page lists the person's own registrations, upcoming and past, each with its
status and the way to manage it; their calendar tells their own dates from the ones their
organisation hosts."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from eventsapp.database import db, utcnow
from eventsapp.models import OrganisationKind, Registration, Role
from eventsapp.services import feeds
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import login
from tests.factories import applicant, make_format, make_organisation, make_session, make_user

MEMBER = "deniz@vmdo.example"


def _programme(app) -> dict:
    with app.app_context():
        partner = make_organisation(OrganisationKind.PARTNER, name="VMDO")
        make_user(Role.PARTNER, partner, email=MEMBER, name="Deniz Kaya")
        police = make_format(title="Blick in die Polizei")
        visit = make_format(partner, title="Blick in die Organisation")
        soon = make_session(police, capacity=1, starts_at=utcnow() + timedelta(days=3))
        later = make_session(police, capacity=5, starts_at=utcnow() + timedelta(days=30))
        hosted = make_session(visit, starts_at=utcnow() + timedelta(days=10))
        over = make_session(police, starts_at=utcnow() + timedelta(hours=1))
        me = applicant("me", email=MEMBER, name="Deniz Kaya")
        rules.register_for_session(soon, applicant("first"), now=utcnow())  # takes the seat
        waiting = rules.register_for_session(soon, me, now=utcnow())
        confirmed = rules.register_for_session(later, me, now=utcnow())
        cancelled = rules.register_for_session(over, me, now=utcnow())
        rules.cancel_registration(cancelled, now=utcnow())
        over.starts_at = utcnow() - timedelta(days=2)  # it has taken place since
        over.ends_at = over.starts_at + timedelta(hours=2)
        rules.register_for_session(later, applicant("someone else"), now=utcnow())
        db.session.commit()
        return {
            "waiting": (soon.id, manage_token(waiting)),
            "confirmed": (later.id, manage_token(confirmed)),
            "cancelled": (over.id, manage_token(cancelled)),
            "hosted": hosted.id,
        }


def test_my_registrations_upcoming_and_past_with_status_and_link(app):
    ids = _programme(app)
    client = app.test_client()
    login(client, MEMBER)
    page = client.get("/auth/account").get_data(as_text=True)
    assert "Meine Anmeldungen" in page
    mine = page.split("Meine Anmeldungen")[1].split("Mein Kalender")[0]
    upcoming, past = mine.split("Vergangene Termine")
    assert "Kommende Termine" in upcoming
    # The next date first, each with its status as the manage page and the CSV name it.
    soon = upcoming.index(f'/sessions/{ids["waiting"][0]}"')
    later = upcoming.index(f'/sessions/{ids["confirmed"][0]}"')
    assert soon < later
    assert upcoming[soon:later].count("Warteliste") == 1
    assert "bestätigt" in upcoming[later:]
    assert f"/registrations/{ids['waiting'][1]}" in upcoming
    assert f"/registrations/{ids['confirmed'][1]}" in upcoming
    assert f'/sessions/{ids["cancelled"][0]}"' in past and "storniert" in past
    assert "abgesagt" not in past  # a cancelled registration, not a cancelled date
    assert "person" not in mine  # nobody else's registration (their addresses: person…)

    # The link opens the person's own manage page.
    manage = client.get(f"/registrations/{ids['confirmed'][1]}").get_data(as_text=True)
    assert "Sie sind angemeldet." in manage and "Deniz Kaya" in manage


def test_someone_without_registrations_is_shown_the_way_to_the_dates(app):
    with app.app_context():
        make_user(Role.ORGANISER, email="kim@polizei.example")
        db.session.commit()
    client = app.test_client()
    login(client, "kim@polizei.example")
    page = client.get("/auth/account").get_data(as_text=True)
    assert "Sie sind für keinen Termin angemeldet." in page


def test_the_personal_calendar_tells_own_dates_from_the_organisations(app):
    ids = _programme(app)
    with app.app_context():
        token = feeds.feed_token(feeds.personal_feed_for(MEMBER, now=utcnow()))
        db.session.commit()
        statuses = {r.session_id: r.status for r in db.session.query(Registration)}
    body = app.test_client().get(f"/feeds/{token}.ics").data
    events = {
        int(str(e["UID"]).split("-")[1].split("@")[0]): e
        for e in Calendar.from_ical(body).walk("VEVENT")
    }
    assert set(events) == {ids["waiting"][0], ids["confirmed"][0], ids["hosted"]}
    waiting, confirmed, hosted = (
        events[ids["waiting"][0]],
        events[ids["confirmed"][0]],
        events[ids["hosted"]],
    )
    assert (str(confirmed["STATUS"]), str(confirmed["TRANSP"])) == ("CONFIRMED", "OPAQUE")
    assert str(confirmed["SUMMARY"]) == "Blick in die Polizei"
    assert str(waiting["STATUS"]) == "TENTATIVE"
    assert str(waiting["SUMMARY"]) == "Warteliste: Blick in die Polizei"
    assert str(hosted["SUMMARY"]) == "Bei Ihrer Organisation: Blick in die Organisation"
    assert str(hosted["TRANSP"]) == "TRANSPARENT"  # not the person's own appointment
    assert ids["hosted"] not in statuses
