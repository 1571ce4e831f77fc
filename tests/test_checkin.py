"""The door, server side: the QR code in the confirmation checks its person in and nothing
else does; check-ins from devices are idempotent (earliest time wins); walk-ins take a
seat under the same rules; the printable list."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.models import (
    OrganisationKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Role,
    Session,
)
from eventsapp.services import feedback
from eventsapp.services import registrations as rules
from eventsapp.tokens import checkin_code, manage_token, spaced_code
from tests.conftest import csrf_token, login
from tests.factories import applicant, make_format, make_organisation, make_session, make_user


def _door(app, capacity: int = 5) -> dict:
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, name="Polizei Dortmund")
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        format = make_format(host, title="Blick in die Polizei")
        session = make_session(
            format, capacity=capacity, starts_at=utcnow() + timedelta(minutes=30)
        )
        other = make_session(format, capacity=5, starts_at=utcnow() + timedelta(days=7))
        db.session.commit()
        return {"session": session.id, "other": other.id}


def _organiser(app):
    client = app.test_client()
    assert login(client, "kim@polizei.example").status_code == 303
    return client


def _decode(png: bytes) -> str:
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


def _code_entry(client, session_id: int, code: str):
    page = f"/organiser/sessions/{session_id}/checkin"
    response = client.post(
        f"{page}/code", data={"csrf_token": csrf_token(client, page), "code": code}
    )
    assert response.status_code == 303
    return client.get(page).get_data(as_text=True)


def _result(html: str) -> tuple[str, str]:
    match = re.search(r'<p class="flash flash-(ok|already|unknown)">([^<]*)</p>', html)
    assert match, "no result shown"
    return match.group(1), match.group(2)


def _attended(app, email: str) -> tuple[bool | None, datetime | None]:
    with app.app_context():
        row = db.session.execute(
            select(Registration.attended, Registration.checked_in_at).where(
                Registration.email == email
            )
        ).one()
        return tuple(row)


def test_the_qr_code_of_the_confirmation_checks_its_person_in_and_nothing_else_does(
    mail_app, smtp_server
):
    ids = _door(mail_app)
    with mail_app.app_context():
        session = db.session.get(Session, ids["session"])
        ayse = rules.register_for_session(
            session, applicant(name="Ayşe Kaya", email="ayse@example.org"), now=utcnow()
        )
        rules.register_for_session(
            session, applicant(name="Jonas", email="jonas@example.org"), now=utcnow()
        )
        other = db.session.get(Session, ids["other"])
        elsewhere = rules.register_for_session(
            other, applicant(name="Mira", email="mira@example.org"), now=utcnow()
        )
        db.session.commit()
        token, other_code = manage_token(ayse), checkin_code(elsewhere)
        assert deliver_due(now=utcnow()).sent == 3
    (mail,) = smtp_server.sink.to("ayse@example.org")
    image = next(part for part in mail.walk() if part.get_content_type() == "image/png")
    code = _decode(image.get_content())
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{12}", code)
    text = next(
        part for part in mail.walk() if part.get_content_type() == "text/plain"
    ).get_content()
    assert spaced_code(code) in text  # printed beneath for reading aloud, also in the text part
    html = next(
        part for part in mail.walk() if part.get_content_type() == "text/html"
    ).get_content()
    assert spaced_code(code) in html and "cid:" in html

    # Scanned by anyone else, it is twelve letters and digits: no address, no link, no name.
    assert "http" not in code and "@" not in code

    organiser = _organiser(mail_app)
    # A manage token, a made-up code, another session's code: red, nobody checked in.
    for wrong in (token, "ABCD-EFGH-JKMN", other_code, "<script>"):
        kind, _message = _result(_code_entry(organiser, ids["session"], wrong))
        assert kind == "unknown", wrong
    with mail_app.app_context():
        assert (
            db.session.execute(
                select(func.count()).where(Registration.attended.is_(True))
            ).scalar_one()
            == 0
        )

    # The decoded code, typed in lower case with spaces: green, and Ayşe is checked in.
    kind, message = _result(
        _code_entry(organiser, ids["session"], " ".join(spaced_code(code).lower().split("-")))
    )
    assert (kind, message) == ("ok", "Eingecheckt: Ayşe Kaya")
    attended, at = _attended(mail_app, "ayse@example.org")
    assert attended is True and at is not None
    # Again: amber, with the time of the first check-in, which stays.
    kind, message = _result(_code_entry(organiser, ids["session"], code))
    assert kind == "already" and message.startswith("Schon eingecheckt um ")
    assert _attended(mail_app, "ayse@example.org") == (True, at)
    assert _attended(mail_app, "jonas@example.org") == (None, None)

    # The manage page shows the same code, with its QR code.
    page = mail_app.test_client().get(f"/registrations/{token}").get_data(as_text=True)
    assert spaced_code(code) in page and "<svg" in page


def _sync(client, session_id: int, checkins: list[dict], *, token: str | None = None):
    page = f"/organiser/sessions/{session_id}/checkin"
    token = token or client.get(f"{page}/list.json").get_json()["csrf"]
    return client.post(f"{page}/sync", json={"checkins": checkins}, headers={"X-CSRFToken": token})


def test_check_ins_from_devices_count_once_and_keep_the_earliest_time(app):
    ids = _door(app)
    with app.app_context():
        session = db.session.get(Session, ids["session"])
        people = [rules.register_for_session(session, applicant(n), now=utcnow()) for n in range(3)]
        other = db.session.get(Session, ids["other"])
        stranger = rules.register_for_session(other, applicant("x"), now=utcnow())
        db.session.commit()
        first, second, third = (p.id for p in people)
        stranger_id = stranger.id
    organiser = _organiser(app)
    listed = organiser.get(f"/organiser/sessions/{ids['session']}/checkin/list.json").get_json()
    assert [entry["id"] for entry in listed["people"]] == [first, second, third]
    assert all(len(entry["code"]) == 64 for entry in listed["people"])  # a hash, not the code
    assert "person0@example.org" not in str(listed)  # no addresses on the device

    now = utcnow()
    later, earlier = (
        (now - timedelta(minutes=2)).isoformat(),
        (now - timedelta(minutes=9)).isoformat(),
    )
    # Device A, then device B, both offline earlier; B saw the person first.
    assert (
        _sync(
            organiser, ids["session"], [{"id": first, "at": later}, {"id": second, "at": later}]
        ).status_code
        == 200
    )
    answer = _sync(
        organiser,
        ids["session"],
        [{"id": first, "at": earlier}, {"id": stranger_id, "at": earlier}],
    )
    assert answer.status_code == 200
    by_id = {entry["id"]: entry for entry in answer.get_json()["people"]}
    assert datetime.fromisoformat(by_id[first]["at"]) == datetime.fromisoformat(earlier)
    assert by_id[third]["at"] is None
    # A later copy of the same check-in changes nothing.
    _sync(organiser, ids["session"], [{"id": first, "at": now.isoformat()}])
    with app.app_context():
        rows = dict(
            db.session.execute(
                select(Registration.id, Registration.checked_in_at).where(
                    Registration.attended.is_(True)
                )
            ).all()
        )
    assert set(rows) == {first, second}  # the other session's person is untouched
    assert rows[first] == datetime.fromisoformat(earlier)
    # A clock far ahead is taken as now; nonsense is refused whole.
    _sync(organiser, ids["session"], [{"id": third, "at": (now + timedelta(days=3)).isoformat()}])
    assert _attended(app, "person2@example.org")[1] <= utcnow()
    for bad in (
        {"checkins": [{"id": "x", "at": "y"}]},
        {"checkins": [{"id": third, "at": "2027-01-01T10:00"}]},
        ["x"],
    ):
        page = f"/organiser/sessions/{ids['session']}/checkin"
        token = organiser.get(f"{page}/list.json").get_json()["csrf"]
        assert (
            organiser.post(f"{page}/sync", json=bad, headers={"X-CSRFToken": token}).status_code
            == 400
        )
    # Without the CSRF token nothing happens; nor for an organiser of another organisation.
    assert (
        organiser.post(
            f"/organiser/sessions/{ids['session']}/checkin/sync", json={"checkins": []}
        ).status_code
        == 400
    )
    with app.app_context():
        other_host = make_organisation(OrganisationKind.HOST, name="Andere")
        make_user(Role.ORGANISER, other_host, email="eve@andere.example")
        db.session.commit()
    eve = app.test_client()
    login(eve, "eve@andere.example")
    assert eve.get(f"/organiser/sessions/{ids['session']}/checkin/list.json").status_code == 404


def _walk_in(client, session_id: int, name: str, email: str = ""):
    page = f"/organiser/sessions/{session_id}/checkin"
    return client.post(
        f"{page}/walk-in",
        data={"csrf_token": csrf_token(client, page), "name": name, "email": email},
    )


def test_walk_ins_take_a_free_seat_and_are_checked_in(app):
    ids = _door(app, capacity=2)
    with app.app_context():
        session = db.session.get(Session, ids["session"])
        rules.register_for_session(session, applicant("angemeldet"), now=utcnow())
        db.session.commit()
    organiser = _organiser(app)
    with app.app_context():
        mails_before = db.session.execute(
            select(func.count()).select_from(OutboxMessage)
        ).scalar_one()

    response = _walk_in(organiser, ids["session"], "Herr Özdemir")
    assert response.status_code == 303
    page = organiser.get(f"/organiser/sessions/{ids['session']}/checkin").get_data(as_text=True)
    assert _result(page) == ("ok", "Eingecheckt: Herr Özdemir")
    assert "ohne Anmeldung gekommen" in page
    with app.app_context():
        walk_in = db.session.execute(
            select(Registration).where(Registration.name == "Herr Özdemir")
        ).scalar_one()
        assert (walk_in.walk_in, walk_in.status, walk_in.attended) == (
            True,
            RegistrationStatus.CONFIRMED,
            True,
        )
        assert not walk_in.has_address
        # No address, no mail, and no feedback invitation later.
        assert (
            db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
            == mails_before
        )
        walk_in.session.starts_at -= timedelta(hours=5)
        walk_in.session.ends_at -= timedelta(hours=5)
        db.session.commit()
        assert feedback.invite_due(now=utcnow()) >= 0
        db.session.commit()
        recipients = db.session.execute(select(OutboxMessage.recipient)).scalars().all()
        assert not any(r.endswith("walk-in.invalid") for r in recipients)
        walk_in.session.starts_at += timedelta(hours=5)
        walk_in.session.ends_at += timedelta(hours=5)
        db.session.commit()

    # The session is full now: the next one is refused next to the field, nothing written.
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(Registration)).scalar_one()
    response = _walk_in(organiser, ids["session"], "Frau Nowak", "nowak@example.org")
    assert response.status_code == 409
    assert "Es ist kein Platz frei" in response.get_data(as_text=True)
    assert 'id="name-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.execute(select(func.count()).select_from(Registration)).scalar_one() == count
        )
    # A name is needed.
    assert _walk_in(organiser, ids["session"], "").status_code == 422


def test_a_walk_in_with_an_address_gets_the_usual_confirmation(app):
    ids = _door(app)
    organiser = _organiser(app)
    assert _walk_in(organiser, ids["session"], "Lena", "lena@example.org").status_code == 303
    with app.app_context():
        templates = (
            db.session.execute(
                select(OutboxMessage.deferred_template).where(
                    OutboxMessage.recipient == "lena@example.org"
                )
            )
            .scalars()
            .all()
        )
    assert templates == ["registration_confirmed"]
    assert _attended(app, "lena@example.org")[0] is True


def test_the_printable_list_is_alphabetical_with_boxes_and_walk_in_lines(app):
    ids = _door(app)
    with app.app_context():
        session = db.session.get(Session, ids["session"])
        for name in ("Zeynep", "Ali", "Özlem", "Bernd"):
            rules.register_for_session(session, applicant(name, name=name), now=utcnow())
        db.session.commit()
    html = (
        _organiser(app)
        .get(f"/organiser/sessions/{ids['session']}/checkin/print")
        .get_data(as_text=True)
    )
    names = re.findall(r"<td><bdi>([^<]+)</bdi>", html)
    assert names == ["Ali", "Bernd", "Özlem", "Zeynep"]
    assert html.count('class="box"') == 4 + 5  # a box per person and per blank walk-in line
    assert "Personen ohne Anmeldung" in html


def test_the_door_closes_some_hours_after_the_end(app):
    ids = _door(app)
    with app.app_context():
        session = db.session.get(Session, ids["session"])
        person = rules.register_for_session(session, applicant(1), now=utcnow())
        session.starts_at = datetime.now(UTC) - timedelta(hours=10)
        session.ends_at = datetime.now(UTC) - timedelta(hours=8)
        db.session.commit()
        code = checkin_code(person)
    organiser = _organiser(app)
    page = organiser.get(f"/organiser/sessions/{ids['session']}/checkin").get_data(as_text=True)
    assert "Der Einlass für diesen Termin ist geschlossen." in page
    response = organiser.post(
        f"/organiser/sessions/{ids['session']}/checkin/code",
        data={
            "csrf_token": organiser.get(
                f"/organiser/sessions/{ids['session']}/checkin/list.json"
            ).get_json()["csrf"],
            "code": code,
        },
    )
    assert response.status_code == 409
