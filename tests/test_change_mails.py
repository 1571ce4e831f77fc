"""A change mail says what changed, the old next to the new, and where the other dates are;
a waitlist mail says which place in the line the person has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from eventsapp.database import db
from eventsapp.mail.delivery import render_deferred
from eventsapp.models import OutboxMessage, Registration
from eventsapp.services import registrations as rules
from eventsapp.services import scheduling
from tests.factories import applicant, make_format, make_session

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
STARTS = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)  # Tuesday 18:00 in Dortmund


def _mails(event: str) -> list[OutboxMessage]:
    """The mails queued for `event` (as in the dedupe key), rendered, oldest first."""
    render_deferred(now=NOW, limit=100)
    return list(
        db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.contains(f":{event}"))
            .order_by(OutboxMessage.id)
        ).scalars()
    )


def _session():
    format = make_format(title="Blick in die Polizei", slug="blick")
    return make_session(
        format,
        capacity=1,
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=2),
        venue_name="Polizeipräsidium",
        venue_address="Markgrafenstraße 102",
    )


def test_a_moved_date_names_the_old_and_the_new_time(ctx):
    session = _session()
    rules.register_for_session(session, applicant("a"), now=NOW)
    rules.register_for_session(session, applicant("b", language="tr"), now=NOW)
    db.session.commit()
    scheduling.change_session_times(
        session,
        day=datetime(2027, 3, 11).date(),
        start=datetime(2027, 1, 1, 19, 0).time(),
        end=datetime(2027, 1, 1, 21, 0).time(),
        now=NOW,
    )
    db.session.commit()
    german, turkish = _mails("session-changed")
    assert german.recipient == "persona@example.org"
    assert "Bisher: Dienstag, 9. März 2027, 18:00–20:00 Uhr" in german.body_text
    assert "Jetzt: Donnerstag, 11. März 2027, 19:00–21:00 Uhr" in german.body_text
    assert "Bisher: Polizeipräsidium" not in german.body_text  # the place did not change
    assert "Andere Termine von „Blick in die Polizei“:" in german.body_text
    assert german.body_text.count("/formats/blick") == 1
    assert "<del>Dienstag, 9. März 2027, 18:00–20:00 Uhr</del>" in german.body_html
    assert "9 Mart 2027 Salı" in turkish.body_text and "11 Mart 2027 Perşembe" in turkish.body_text


def test_a_new_place_names_the_old_and_the_new_place(ctx):
    session = _session()
    rules.register_for_session(session, applicant("a"), now=NOW)
    db.session.commit()
    scheduling.update_session_details(
        session,
        scheduling.SessionDetails(
            venue_name="Haus der Vielfalt",
            venue_address="Beuthstraße 21",
            host_organisation=session.host_organisation,
            capacity=1,
            languages="de",
            interpreting="",
            note="",
        ),
        now=NOW,
    )
    db.session.commit()
    (mail,) = _mails("session-changed")
    assert "Bisher: Polizeipräsidium, Markgrafenstraße 102" in mail.body_text
    assert "Jetzt: Haus der Vielfalt, Beuthstraße 21" in mail.body_text
    assert "Bisher: Dienstag" not in mail.body_text  # the time did not change


def test_the_waitlist_mail_gives_the_place_in_line(ctx):
    session = _session()
    for name in ("a", "b", "c"):
        rules.register_for_session(session, applicant(name), now=NOW)
    db.session.commit()
    waiting = _mails("received")[1:]  # the first got the seat
    assert [m.recipient for m in waiting] == ["personb@example.org", "personc@example.org"]
    assert "Sie stehen auf der Warteliste, auf Platz 1." in waiting[0].body_text
    assert "Sie stehen auf der Warteliste, auf Platz 2." in waiting[1].body_text
    assert "auf Platz 2." in waiting[1].body_html
    third = db.session.execute(
        select(Registration).where(Registration.email == "personc@example.org")
    ).scalar_one()
    assert rules.waitlist_position(third) == 2
