"""Report figures equal what the raw rows say: a year's programme is seeded through the
services (partners, contingents, cancellations, waitlists, no-shows, feedback), then every
grouping's figures are checked against counts made here, row by row, without the report's
queries."""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from eventsapp.database import db
from eventsapp.feedback_items import DONT_KNOW, ITEMS, STEPS
from eventsapp.models import (
    SEAT_HOLDING,
    Contingent,
    FeedbackInvitation,
    FeedbackResponse,
    Format,
    OrganisationKind,
    Registration,
    RegistrationStatus,
    Role,
    Session,
    SessionStatus,
)
from eventsapp.services import contingents, feedback, reports, scheduling
from eventsapp.services import registrations as rules
from eventsapp.services.partner_registrations import colleague_applicant
from eventsapp.services.reports import Grouping, Masked
from eventsapp.tokens import feedback_token
from tests.factories import (
    PASSWORD,
    applicant,
    make_format,
    make_organisation,
    make_session,
    make_user,
)
from tests.test_accessibility import violations

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2027, 1, 10, tzinfo=UTC)
LANGUAGES = ("de", "tr", "ar", "uk", "fr", "en")


def _seed_year(seed: int = 7) -> None:
    """44 dates over 2026 for two formats and two hosts, twelve partners with a member each;
    every fifth date called off; contingents, waitlists, check-ins and feedback."""
    generator = random.Random(seed)
    police = make_organisation(OrganisationKind.HOST, name="Polizei Dortmund")
    partners = [
        make_organisation(OrganisationKind.PARTNER, name=f"Verein {n:02d}") for n in range(12)
    ]
    members = [make_user(organisation=partner, role="partner") for partner in partners]
    visit = make_format(police, title="Blick in die Polizei")
    outreach = make_format(partners[0], title="Blick in die Organisation")
    person = 0
    for n in range(44):
        starts = YEAR_START + timedelta(days=8 * n + 1, hours=16)
        format = visit if n % 2 == 0 else outreach
        session = make_session(
            format,
            capacity=generator.randint(8, 14),
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            interpreting="Türkisch" if n % 3 == 0 else "",
            host_organisation=format.host_organisation,
        )
        booked = starts - timedelta(days=20)
        chosen = generator.sample(range(12), generator.randint(0, 2))
        for index in chosen:
            contingents.set_contingent(
                session,
                partners[index],
                seats=generator.randint(2, 3),
                release_at=starts - timedelta(days=3),
                now=booked - timedelta(days=1),
            )
        for index in chosen:  # some of the kept seats are used by colleagues
            for _ in range(generator.randint(0, 3)):
                person += 1
                rules.register_for_session(
                    session,
                    colleague_applicant(
                        members[index], f"P{person}", f"p{person}@example.org", "tr"
                    ),
                    now=booked,
                )
        for _ in range(generator.randint(4, 18)):  # the public, some onto the waitlist
            person += 1
            rules.register_for_session(
                session,
                applicant(person, language=generator.choice(LANGUAGES)),
                now=booked + timedelta(days=1),
            )
        registrations = db.session.scalars(
            select(Registration).where(Registration.session_id == session.id)
        ).all()
        for registration in registrations[:3]:
            if generator.random() < 0.3 and registration.is_active:
                rules.cancel_registration(registration, now=booked + timedelta(days=2))
        if n % 5 == 4:
            scheduling.cancel_session(session, reason="Umbau", now=starts - timedelta(days=2))
            continue
        contingents.release_due_contingents(now=starts - timedelta(days=3))
        if n % 4 != 3:  # check-in used at three dates of four
            for registration in db.session.scalars(
                select(Registration).where(
                    Registration.session_id == session.id,
                    Registration.status == RegistrationStatus.CONFIRMED,
                )
            ):
                rules.set_attendance(registration, generator.random() < 0.8, now=starts)
        feedback.invite_due(now=session.ends_at + timedelta(hours=3))
        for invitation in db.session.scalars(
            select(FeedbackInvitation).where(FeedbackInvitation.session_id == session.id)
        ).all():
            if generator.random() < 0.6:
                scores = {item.key: generator.choice((*STEPS, DONT_KNOW, None)) for item in ITEMS}
                assert feedback.answer(
                    feedback_token(invitation.token_nonce), feedback.Answers(scores)
                )
    db.session.commit()


def _reference(sessions: list[Session]) -> dict:
    """The figures of a group of dates, counted row by row."""
    figures = Counter()
    languages = Counter()
    items = {item.key: Counter() for item in ITEMS}
    for session in sessions:
        if session.status == SessionStatus.CANCELLED:
            figures["cancelled"] += 1
            continue
        if session.ends_at > NOW:
            continue
        figures["held"] += 1
        figures["seats"] += session.capacity
        figures["interpreted"] += bool(session.interpreting)
        rows = db.session.scalars(
            select(Registration).where(Registration.session_id == session.id)
        ).all()
        checked_in_used = any(r.attended is not None for r in rows)
        for r in rows:
            figures["registrations"] += 1
            figures["confirmed"] += r.status == RegistrationStatus.CONFIRMED
            figures["waiting"] += r.status == RegistrationStatus.WAITLISTED
            figures["attended"] += bool(r.attended)
            if r.status == RegistrationStatus.CONFIRMED:
                languages[r.language] += 1
                if checked_in_used:
                    figures["checked"] += 1
                    figures["no_shows"] += not r.attended
        for contingent in db.session.scalars(
            select(Contingent).where(Contingent.session_id == session.id)
        ):
            taken = sum(
                1 for r in rows if r.contingent_id == contingent.id and r.status in SEAT_HOLDING
            )
            figures["contingent_seats"] += contingent.seats
            figures["contingent_used"] += min(taken, contingent.seats)
            figures["contingent_released"] += contingent.seats - min(taken, contingent.seats)
        for response in db.session.scalars(
            select(FeedbackResponse).where(FeedbackResponse.session_id == session.id)
        ):
            figures["responses"] += 1
            for item in ITEMS:
                value = getattr(response, item.key)
                if value is not None:
                    items[item.key][value] += 1
    return {"figures": figures, "languages": languages, "items": items}


@pytest.mark.parametrize("grouping", list(Grouping))
def test_report_figures_equal_the_rows(ctx, grouping):
    _seed_year()
    sessions = reports.sessions_in(YEAR_START, YEAR_START.replace(year=2027))
    assert len(sessions) == 44
    assert sum(s.status == SessionStatus.CANCELLED for s in sessions) == 8
    groups = reports.report(sessions, grouping, now=NOW)
    assert sum(len(group.sessions) for group in groups) == 44
    if grouping == Grouping.QUARTER:
        assert [group.label for group in groups] == [f"2026 Q{q}" for q in (1, 2, 3, 4)]
    for group in groups:
        expected = _reference(group.sessions)
        p = group.participation
        counted = {
            name: getattr(p, name)
            for name in (
                "held",
                "cancelled",
                "seats",
                "interpreted",
                "registrations",
                "confirmed",
                "waiting",
                "attended",
                "checked",
                "no_shows",
                "contingent_seats",
                "contingent_used",
                "contingent_released",
            )
        }
        assert counted == {name: expected["figures"][name] for name in counted}, group.label
        assert p.languages == expected["languages"], group.label
        assert group.responses == expected["figures"]["responses"], group.label
        for item in ITEMS:
            figures = group.items[item.key]
            assert {k: v for k, v in figures.counts.items() if v} == dict(
                expected["items"][item.key]
            ), (group.label, item.key)
            answered = sum(expected["items"][item.key][s] for s in STEPS)
            if answered:
                mean = sum(s * expected["items"][item.key][s] for s in STEPS) / answered
                assert figures.mean == pytest.approx(mean)
            shown = group.shown(figures.mean)
            assert isinstance(shown, Masked) == (group.responses < 5)


def test_partner_figures_equal_the_rows_and_hide_small_numbers(ctx):
    _seed_year()
    sessions = reports.sessions_in(YEAR_START, YEAR_START.replace(year=2027))
    found = reports.partners(sessions, now=NOW)
    held = {s.id for s in sessions if s.status == SessionStatus.PUBLISHED}
    rows = db.session.scalars(
        select(Registration).where(
            Registration.session_id.in_(held), Registration.organisation_id.is_not(None)
        )
    ).all()
    assert rows  # colleagues were registered
    by_partner = Counter(r.organisation_id for r in rows)
    came = Counter(r.organisation_id for r in rows if r.attended)
    for organisation_id, figures in found.items():
        assert figures.registrations == by_partner[organisation_id]
        assert figures.attended == came[organisation_id]
        assert isinstance(figures.shown(figures.registrations), Masked) == (
            came[organisation_id] < 5
        )
    assert str(Masked()) == "<5"


# --- the page ------------------------------------------------------------------------------


def test_the_reports_page_shows_the_year_and_withholds_small_numbers(app, office):
    with app.app_context():
        format = db.session.get(Format, office["format"])
        ended = datetime(datetime.now(UTC).year, 1, 5, 16, tzinfo=UTC)
        session = make_session(format, starts_at=ended, ends_at=ended + timedelta(hours=2))
        for n in range(6):
            registration = rules.register_for_session(
                session, applicant(n), now=ended - timedelta(days=3)
            )
            rules.set_attendance(registration, n != 0, now=ended)
        for _ in range(4):  # four answers: too few to show
            db.session.add(
                FeedbackResponse(session=session, round_on=ended.date(), respect=4, learned=3)
            )
        db.session.commit()
    client = office["client"]
    page = client.get(f"/organiser/reports?year={ended.year}&group=format")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Blick in die Polizei" in html
    row, answers = re.findall(r"<th scope=\"row\">Blick in die Polizei</th>(.*?)</tr>", html, re.S)
    assert ">6<" in row and ">5<" in row  # registrations; checked in
    assert "17\xa0%" in row  # one of six did not come
    assert "weniger als 5" not in row  # participation is not withheld
    assert answers.count("weniger als 5") == 1 + len(ITEMS)  # the answers and every mean
    csv_rows = _csv(client, f"/organiser/reports/feedback.csv?year={ended.year}&group=format")
    assert csv_rows[1][0] == "Blick in die Polizei"
    assert set(csv_rows[1][1:]) == {"weniger als 5"}  # every figure, counts and means
    participation = _csv(
        client, f"/organiser/reports/participation.csv?year={ended.year}&group=format"
    )
    assert participation[1][:8] == ["Blick in die Polizei", "1", "0", "10", "6", "6", "0", "5"]
    assert participation[1][8] == "16,7"  # per cent who did not come
    with app.app_context():
        session = db.session.scalars(select(Session).where(Session.starts_at == ended)).one()
        db.session.add(FeedbackResponse(session=session, round_on=ended.date(), respect=2))
        db.session.commit()
    html = client.get(f"/organiser/reports?year={ended.year}&group=format").get_data(as_text=True)
    _, answers = re.findall(r"<th scope=\"row\">Blick in die Polizei</th>(.*?)</tr>", html, re.S)
    assert "weniger als 5" not in answers
    assert ">3,6<" in answers  # respect: (4 + 4 + 4 + 4 + 2) / 5
    csv_rows = _csv(client, f"/organiser/reports/feedback.csv?year={ended.year}&group=format")
    figures = dict(zip(csv_rows[0], csv_rows[1], strict=True))
    assert figures["Antworten"] == "5"
    assert (figures["Respekt: 4"], figures["Respekt: 2"]) == ("4", "1")
    assert figures["Respekt: Mittelwert"] == "3,6"
    # Nonsense in the address falls back to this year and the format grouping.
    assert client.get("/organiser/reports?year=abc&group=x").status_code == 200


def _csv(client, url: str) -> list[list[str]]:
    answer = client.get(url)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    text = answer.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_reports_page_has_no_wcag_violations(live_app, browser, language, width):
    app, base = live_app
    with app.app_context():
        _seed_year()
        make_user(Role.ADMIN, email="kim@polizei.example")  # sees the whole programme
        db.session.commit()
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(f"{base}/auth/login?lang={language}")
    page.locator("#email").fill("kim@polizei.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    for grouping in ("format", "quarter"):
        page.goto(f"{base}/organiser/reports?year=2026&group={grouping}")
        assert page.locator("tbody tr").count() > 1, grouping
        assert violations(page) == [], grouping
        assert page.evaluate("document.documentElement.scrollWidth") <= width, grouping
    page.close()
