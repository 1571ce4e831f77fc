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
from pypdf import PdfReader
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
    TextsState,
    TopicStatus,
)
from eventsapp.services import (
    checkin,
    contingents,
    feedback,
    report_exports,
    reports,
    scheduling,
)
from eventsapp.services import registrations as rules
from eventsapp.services.partner_registrations import colleague_applicant
from eventsapp.services.reports import Grouping, Masked
from eventsapp.tokens import feedback_token
from tests.conftest import login
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
    visit = make_format(police, title="Blick in die Polizei", slug="blick-in-die-polizei")
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
            if n % 3 == 0 and rules.seat_counts(session, now=starts).left > 0:
                checkin.add_walk_in(session, f"Gast {n}", None, now=starts)  # came unannounced
        feedback.invite_due(now=session.ends_at + timedelta(hours=3))
        for invitation in db.session.scalars(
            select(FeedbackInvitation).where(FeedbackInvitation.session_id == session.id)
        ).all():
            if generator.random() < 0.6:
                scores = {item.key: generator.choice((*STEPS, DONT_KNOW, None)) for item in ITEMS}
                topic = f"Thema {person}" if generator.random() < 0.3 else ""
                assert feedback.answer(
                    feedback_token(invitation.token_nonce), feedback.Answers(scores, topics=topic)
                )
        for n, response in enumerate(feedback.texts_of(session)):  # released, some decided
            feedback.decide_texts(response, TextsState.RELEASED, "", now=session.ends_at)
            if n % 3 == 1:
                feedback.set_topic_status(
                    response, TopicStatus.TAKEN_UP, taken_up_on=starts.date(), note=""
                )
            elif n % 3 == 2:
                feedback.set_topic_status(
                    response, TopicStatus.NOT_NOW, taken_up_on=None, note="Nicht unser Thema."
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
            figures["walk_ins"] += bool(r.attended and r.walk_in)
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
                "walk_ins",
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
    # The partners' table of the report, in CSV and the API, says the same.
    report = reports.year_report(2026, Grouping.FORMAT, zone="Europe/Berlin", now=NOW)
    listed = {organisation.id: one for organisation, one in report.partners}
    assert listed.keys() == found.keys()
    rows = list(
        csv.reader(
            io.StringIO(report_exports.partners_csv(report).decode("utf-8-sig")), delimiter=";"
        )
    )
    api = report_exports.report_json(report)["partners"]
    assert len(rows) - 1 == len(api) == len(found)
    for (organisation, one), row, entry in zip(report.partners, rows[1:], api, strict=True):
        assert row[0] == organisation.name and entry["organisation"] == organisation.slug
        if came[organisation.id] < 5:
            assert row[1:4] == ["weniger als 5"] * 3
            assert entry["checked_in"] == "fewer than 5"
        else:
            assert row[1] == str(by_partner[organisation.id])
            assert entry["checked_in"] == came[organisation.id]


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
    assert participation[1][:9] == ["Blick in die Polizei", "1", "0", "10", "6", "6", "0", "5", "0"]
    assert participation[0][8] == "davon ohne Anmeldung"
    assert participation[1][9] == "16,7"  # per cent who did not come
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


def _pdf_text(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(answer.get_data())).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_four_answers_are_withheld_in_page_csv_pdf_and_api_and_five_are_shown(app, office):
    """The threshold holds in every view: with four responses no feedback figure appears
    anywhere (page, CSV, PDF, API); with the fifth, all of them do."""
    client = office["client"]
    with app.app_context():
        format = db.session.get(Format, office["format"])
        ended = datetime(datetime.now(UTC).year, 1, 5, 16, tzinfo=UTC)
        session = make_session(format, starts_at=ended, ends_at=ended + timedelta(hours=2))
        for _ in range(4):
            db.session.add(
                FeedbackResponse(session=session, round_on=ended.date(), respect=4, fair=1)
            )
        db.session.commit()
    query = f"year={ended.year}&group=session"

    def views() -> tuple[str, list[list[str]], str, dict]:
        html = client.get(f"/organiser/reports?{query}").get_data(as_text=True)
        api = client.get(f"/api/v1/reports?{query}")
        assert api.status_code == 200 and api.mimetype == "application/json"
        return (
            html,
            _csv(client, f"/organiser/reports/feedback.csv?{query}"),
            _pdf_text(client, f"/organiser/reports.pdf?{query}"),
            api.get_json()["groups"][0]["feedback"],
        )

    html, csv_rows, pdf, api = views()
    # The page: every figure of the answers, in every table that has them.
    means = re.findall(r"data-label=\"(?:Respekt|Antworten)\">([^<]*)<", html)
    assert "weniger als 5" in means and set(means) <= {"weniger als 5", "0", "–"}, means
    assert "4,0" not in html and "1,0" not in html
    assert set(csv_rows[1][1:]) == {"weniger als 5"}
    assert "Antworten im Jahr: weniger als 5" in pdf
    assert "4,0" not in pdf and "1,0" not in pdf
    assert api["responses"] == "fewer than 5"
    for item in api["items"].values():
        assert item["mean"] == "fewer than 5"
        assert set(item["distribution"].values()) == {"fewer than 5"}

    with app.app_context():
        session = db.session.scalars(select(Session).where(Session.starts_at == ended)).one()
        db.session.add(FeedbackResponse(session=session, round_on=ended.date(), respect=4, fair=1))
        db.session.commit()
    html, csv_rows, pdf, api = views()
    label = f"Blick in die Polizei, {ended:%d.%m.%Y}"
    rows = re.findall(
        rf"<th scope=\"row\">(?:{label}|{ended.year} Q1|{ended.year})</th>(.*?)</tr>", html, re.S
    )
    assert len(rows) >= 4  # the two tables by date, the two trend tables by quarter
    assert all(">weniger als 5<" not in row for row in rows)
    assert ">4,0<" in html and ">1,0<" in html  # respect and fairness means
    figures = dict(zip(csv_rows[0], csv_rows[1], strict=True))
    assert (figures["Antworten"], figures["Respekt: Mittelwert"]) == ("5", "4,0")
    assert "Antworten im Jahr: 5" in pdf and "4,0" in pdf
    assert api["responses"] == 5
    assert api["items"]["respect"]["mean"] == 4.0
    assert api["items"]["respect"]["distribution"] == {
        "1": 0,
        "2": 0,
        "3": 0,
        "4": 5,
        "dont_know": 0,
    }
    assert api["items"]["learned"]["mean"] is None  # nobody answered it


def test_the_reports_api_is_for_organisers_only(app, client, office):
    answer = client.get("/api/v1/reports")
    assert answer.status_code == 401 and answer.get_json()["error"]
    with app.app_context():
        make_user(Role.PARTNER, email="partner@verein.example")
        db.session.commit()
    assert login(client, "partner@verein.example").status_code == 303
    assert client.get("/api/v1/reports").status_code == 403
    assert office["client"].get("/api/v1/reports?year=1999").status_code == 400
    assert office["client"].get("/api/v1/reports?group=nonsense").status_code == 400


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
        partner = make_organisation(OrganisationKind.PARTNER, name="Verein West")
        make_user(Role.PARTNER, organisation=partner, email="mitglied@west.example")
        db.session.commit()
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(f"{base}/auth/login?lang={language}")
    page.locator("#email").fill("kim@polizei.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    for grouping in ("format", "quarter"):
        page.goto(f"{base}/organiser/reports?year=2026&group={grouping}")
        assert page.locator("tbody tr").count() > 1, grouping
        # Three charts, each with a text alternative and a table of the same figures.
        charts = page.locator("figure.chart img")
        assert charts.count() == 3, grouping
        for n in range(3):
            assert len(charts.nth(n).get_attribute("alt")) > 40, grouping
            assert charts.nth(n).evaluate("img => img.naturalWidth") > 0, grouping  # drawn
        assert violations(page) == [], grouping
        assert page.evaluate("document.documentElement.scrollWidth") <= width, grouping
    page.close()
    # A partner organisation's member: their figures, the trust trend, the topics.
    member = browser.new_page(viewport={"width": width, "height": 800})
    member.goto(f"{base}/auth/login?lang={language}")
    member.locator("#email").fill("mitglied@west.example")
    member.locator("#password").fill(PASSWORD)
    member.locator("form button[type=submit]").click()
    member.goto(f"{base}/auth/account/reports?year=2026")
    assert member.locator("figure.chart img[alt]").count() == 1
    assert violations(member) == []
    assert member.evaluate("document.documentElement.scrollWidth") <= width
    member.close()


def _released_topic(session: Session, topics: str, responses: int = 5) -> str:
    """`responses` answers to `session`, the first with `topics`, its texts released."""
    first = None
    for n in range(responses):
        response = FeedbackResponse(
            session=session,
            round_on=session.ends_at.date(),
            respect=3,
            topics=topics if n == 0 else "",
        )
        db.session.add(response)
        first = first or response
    db.session.flush()
    feedback.decide_texts(first, TextsState.RELEASED, "", now=session.ends_at)
    return first.id


def test_an_organiser_records_what_became_of_a_topic_and_partners_read_it(app, office):
    client = office["client"]
    with app.app_context():
        format = db.session.get(Format, office["format"])
        ended = datetime(datetime.now(UTC).year, 1, 5, 16, tzinfo=UTC)
        session = make_session(format, starts_at=ended, ends_at=ended + timedelta(hours=2))
        response_id = _released_topic(session, "Racial Profiling bei Kontrollen")
        partner = make_organisation(OrganisationKind.PARTNER, name="Verein Nord")
        make_user(Role.PARTNER, organisation=partner, email="mitglied@nord.example")
        db.session.commit()
        session_id = session.id
    page = f"/organiser/sessions/{session_id}/feedback"
    url = f"{page}/{response_id}/topic"
    prefix = f"s{response_id[:12]}-"

    def post(**fields):
        html = client.get(page).get_data(as_text=True)
        token = re.search(r'csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        data = {prefix + name: value for name, value in {"csrf_token": token, **fields}.items()}
        return client.post(url, data=data)

    # "Taken up" needs its day, "not now" its reason: refused next to the field, nothing kept.
    refused = post(status="taken_up")
    assert refused.status_code == 422
    assert "Bitte geben Sie an, wann das Thema aufgegriffen wurde." in refused.get_data(True)
    refused = post(status="not_now", note="  ")
    assert refused.status_code == 422
    assert "warum das Thema jetzt nicht aufgegriffen wird" in refused.get_data(True)
    with app.app_context():
        assert db.session.get(FeedbackResponse, response_id).topic_status == TopicStatus.OPEN
    assert post(status="taken_up", taken_up_on=f"{ended.year}-02-16").status_code == 303
    with app.app_context():
        response = db.session.get(FeedbackResponse, response_id)
        assert response.topic_status == TopicStatus.TAKEN_UP
        assert response.topic_taken_up_on.isoformat() == f"{ended.year}-02-16"

    # The partner's member reads the topic and its status, and the programme's trust trend.
    member = app.test_client()
    assert login(member, "mitglied@nord.example").status_code == 303
    partner_page = member.get(f"/auth/account/reports?year={ended.year}")
    html = partner_page.get_data(as_text=True)
    assert partner_page.status_code == 200
    assert "Racial Profiling bei Kontrollen" in html
    assert "Aufgegriffen am <bdi>16.02." in html
    assert 'class="chart"' in html and 'alt="Liniendiagramm' in html
    # Their own people: none came, so every figure of theirs is withheld.
    assert html.count("weniger als 5") >= 5
    assert (
        post(status="not_now", note="Dafür laden wir die Fachdienststelle ein.").status_code == 303
    )
    html = member.get(f"/auth/account/reports?year={ended.year}").get_data(as_text=True)
    assert "Jetzt nicht, weil: <bdi>Dafür laden wir die Fachdienststelle ein.</bdi>" in html
    # The steering group's PDF lists it too, the organisers' text kept whole in the sentence.
    pdf = _pdf_text(client, f"/organiser/reports.pdf?year={ended.year}&group=session")
    assert "Racial Profiling bei Kontrollen – Jetzt nicht, weil:" in pdf
    assert "Dafür laden wir die Fachdienststelle ein." in pdf
    # Organisers are sent to their reports; the partner page is not theirs.
    assert client.get("/auth/account/reports").status_code == 303
    # A topic not released has no status form.
    with app.app_context():
        hidden = FeedbackResponse(session_id=session_id, round_on=ended.date(), topics="x")
        db.session.add(hidden)
        db.session.commit()
        hidden_id = hidden.id
    html = client.get(page).get_data(as_text=True)
    token = re.search(r'csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    data = {f"s{hidden_id[:12]}-csrf_token": token, f"s{hidden_id[:12]}-status": "open"}
    assert client.post(f"{page}/{hidden_id}/topic", data=data).status_code == 404


def test_partner_figures_on_their_page_appear_from_five_attendees(app, office):
    with app.app_context():
        format = db.session.get(Format, office["format"])
        ended = datetime(datetime.now(UTC).year, 1, 5, 16, tzinfo=UTC)
        session = make_session(format, starts_at=ended, ends_at=ended + timedelta(hours=2))
        partner = make_organisation(OrganisationKind.PARTNER, name="Verein Süd")
        member = make_user(Role.PARTNER, organisation=partner, email="mitglied@sued.example")
        for n in range(5):
            registration = rules.register_for_session(
                session,
                colleague_applicant(member, f"Person {n}", f"p{n}@sued.example", "de"),
                now=ended - timedelta(days=3),
            )
            rules.set_attendance(registration, True, now=ended)
        db.session.commit()
    member_client = app.test_client()
    assert login(member_client, "mitglied@sued.example").status_code == 303
    html = member_client.get(f"/auth/account/reports?year={ended.year}").get_data(as_text=True)
    row = re.search(rf"<th scope=\"row\">{ended.year} Q1</th>(.*?)</tr>", html, re.S).group(1)
    assert "weniger als 5" not in row and row.count(">5<") == 3  # registered, confirmed, came


def test_the_cli_writes_the_report_as_pdf_and_csv(app, runner, tmp_path):
    with app.app_context():
        _seed_year()
        db.session.commit()
    pdf = tmp_path / "bericht.pdf"
    result = runner.invoke(
        args=[
            "reports",
            "export",
            "--format",
            "blick-in-die-polizei",
            "--year",
            "2026",
            "--pdf",
            str(pdf),
            "--csv-dir",
            str(tmp_path),
        ]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Bericht 2026" in text and "Blick in die Polizei" in text
    assert "Blick in die Organisation" not in text  # only the format asked for
    rows = list(
        csv.reader(
            io.StringIO(
                (tmp_path / "bericht-participation-2026-session.csv").read_text("utf-8-sig")
            ),
            delimiter=";",
        )
    )
    assert len(rows) > 1 and all(row[0].startswith("Blick in die Polizei") for row in rows[1:])
    failed = runner.invoke(args=["reports", "export", "--year", "2026"])
    assert failed.exit_code != 0 and "--pdf" in failed.output
    failed = runner.invoke(args=["reports", "export", "--year", "1999", "--pdf", str(pdf)])
    assert failed.exit_code != 0 and "--year" in failed.output
