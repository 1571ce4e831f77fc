"""Feedback after a session: invitations to those who came, one reminder, single-use links,
"no more feedback mail", and answers that nothing joins to a person."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, inspect, select

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.models import (
    FeedbackAudience,
    FeedbackInvitation,
    FeedbackOptOut,
    FeedbackResponse,
    Format,
    OrganisationKind,
    Registration,
    Role,
    TextsState,
)
from eventsapp.services import feedback
from eventsapp.services import registrations as rules
from eventsapp.services.housekeeping import run_jobs
from eventsapp.tokens import feedback_token, manage_token
from tests.conftest import csrf_token
from tests.factories import (
    PASSWORD,
    applicant,
    make_format,
    make_organisation,
    make_session,
    make_user,
)
from tests.test_accessibility import violations

ENDED = utcnow().replace(microsecond=0) - timedelta(hours=5)
RETENTION = {"retention_days": 30, "registration_days": 90}
LINK = re.compile(r"(https?://\S+/feedback/[\w-]+)\?lang=\w+")
STOP = re.compile(r"(https?://\S+/feedback/[\w-]+/stop)\?lang=\w+")


class Visitor:
    """A browser without a browser: cookies kept, forms posted with their CSRF token."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(url))

    def post(self, url: str, data: dict[str, str], *, again: bool = False) -> tuple[int, str]:
        """Open the form, then send it; `again`: send the form last opened once more (the
        back button, a second tab)."""
        if not again:
            _, page = self.get(url)
            self.token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        body = urllib.parse.urlencode({**data, "csrf_token": self.token}).encode()
        return self._open(urllib.request.Request(url, data=body, method="POST"))

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode()


def _programme(audience: FeedbackAudience = FeedbackAudience.ATTENDED) -> int:
    """A session that ended five hours ago with five confirmed people: Ayşe (de), Berk (tr)
    and Dana (uk) came, Can (ar) did not, Ece (fr) came but wants no feedback mail."""
    format = make_format(title="Blick in die Polizei", feedback_audience=audience)
    session = make_session(format, starts_at=ENDED - timedelta(hours=2), ends_at=ENDED)
    before = ENDED - timedelta(days=3)
    people = {
        "ayse": ("de", True),
        "berk": ("tr", True),
        "can": ("ar", False),
        "dana": ("uk", True),
        "ece": ("fr", True),
    }
    for name, (language, came) in people.items():
        registration = rules.register_for_session(
            session,
            applicant(name, email=f"{name}@example.org", language=language),
            now=before,
        )
        rules.set_attendance(registration, came, now=ENDED - timedelta(hours=1))
    feedback.stop_feedback_mail("ece@example.org")
    db.session.commit()
    return session.id


def _jobs(app, at) -> None:
    with app.app_context():
        run_jobs(now=at, **RETENTION)
        db.session.commit()
        deliver_due(now=at)


def _feedback_mails(smtp_server, address: str) -> list:
    return [
        mail
        for mail in smtp_server.sink.to(address)
        if "/feedback/" in mail.get_body(("plain",)).get_content()
    ]


def _link(mail, pattern=LINK) -> str:
    return pattern.search(mail.get_body(("plain",)).get_content()).group(1)


ANSWERS = {"respect": "3", "fair": "2", "explain": "0", "learned": "4", "recommend": "4"}


def test_a_feedback_round_from_invitation_to_reminder(live_app, smtp_server):
    app, base = live_app
    with app.app_context():
        _programme()

    _jobs(app, ENDED + timedelta(hours=2, minutes=59))  # the format waits three hours
    assert not any(_feedback_mails(smtp_server, f"{n}@example.org") for n in ("ayse", "berk"))

    _jobs(app, ENDED + timedelta(hours=3))
    _jobs(app, ENDED + timedelta(hours=4))  # a second run sends nothing again
    invited = {
        n: _feedback_mails(smtp_server, f"{n}@example.org")
        for n in ("ayse", "berk", "can", "dana", "ece")
    }
    assert {n: len(mails) for n, mails in invited.items()} == {
        "ayse": 1,
        "berk": 1,
        "can": 0,
        "dana": 1,
        "ece": 0,
    }
    assert [invited[n][0]["Content-Language"] for n in ("ayse", "berk", "dana")] == [
        "de",
        "tr",
        "uk",
    ]
    assert 'lang="tr"' in invited["berk"][0].get_body(("html",)).get_content()
    subjects = {invited[n][0]["Subject"] for n in ("ayse", "berk", "dana")}
    assert len(subjects) == 3  # each in the person's own language

    # Ayşe answers over HTTP; the link then answers nothing, like one never issued.
    ayse = Visitor()
    link = _link(invited["ayse"][0])
    status, page = ayse.get(link)
    assert status == 200 and "Blick in die Polizei" in page
    status, page = ayse.post(link, {**ANSWERS, "topics": "Racial Profiling", "other": ""})
    assert status == 200 and "Vielen Dank" in page
    assert ayse.post(link, ANSWERS, again=True)[0] == 404
    status, used = ayse.get(link)
    _, unknown = Visitor().get(base + "/feedback/never-issued-token")
    assert status == 404
    assert _without_csrf(used.replace(link.rsplit("/", 1)[1], "")) == _without_csrf(
        unknown.replace("never-issued-token", "")
    )
    with app.app_context():
        (response,) = db.session.scalars(select(FeedbackResponse))
        assert (response.respect, response.fair, response.explain) == (3, 2, 0)
        assert (response.learned, response.recommend, response.topics) == (4, 4, "Racial Profiling")

    # Dana says "no more" from the mail: the link asks first, then stops.
    dana = Visitor()
    stop = _link(invited["dana"][0], STOP)
    status, page = dana.get(stop)
    assert status == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedbackOptOut)) == 1
    status, page = dana.post(stop, {})
    assert status == 200
    assert dana.get(_link(invited["dana"][0]))[0] == 404

    # Three days on, only Berk (invited, not answered, still willing) is reminded, once.
    _jobs(app, ENDED + timedelta(days=3, hours=3))
    _jobs(app, ENDED + timedelta(days=5))
    after = {
        n: len(_feedback_mails(smtp_server, f"{n}@example.org"))
        for n in ("ayse", "berk", "can", "dana", "ece")
    }
    assert after == {"ayse": 1, "berk": 2, "can": 0, "dana": 1, "ece": 0}
    reminder = _feedback_mails(smtp_server, "berk@example.org")[1]
    assert _link(reminder) == _link(invited["berk"][0])  # the same link again

    # The round closes after two weeks: Berk's link answers nothing any more.
    _jobs(app, ENDED + timedelta(days=14, hours=3))
    assert Visitor().get(_link(reminder))[0] == 404
    _jobs(app, ENDED + timedelta(days=30))
    assert after == {
        n: len(_feedback_mails(smtp_server, f"{n}@example.org"))
        for n in ("ayse", "berk", "can", "dana", "ece")
    }


def _without_csrf(page: str) -> str:
    return re.sub(r'(nonce|value)="[^"]*"', "", page)


def test_without_check_in_every_confirmed_registration_is_asked(ctx):
    session_id = _programme()
    for registration in db.session.scalars(select(Registration)):
        registration.attended = None  # the organiser did not use check-in
    feedback.invite_due(now=ENDED + timedelta(hours=3))
    invited = db.session.scalars(
        select(Registration.email)
        .join(FeedbackInvitation, FeedbackInvitation.registration_id == Registration.id)
        .where(FeedbackInvitation.session_id == session_id)
    ).all()
    assert sorted(invited) == [f"{n}@example.org" for n in ("ayse", "berk", "can", "dana")]


@pytest.mark.parametrize(
    ("audience", "asked"),
    [(FeedbackAudience.CONFIRMED, 4), (FeedbackAudience.NOBODY, 0)],
)
def test_the_format_decides_who_is_asked(ctx, audience, asked):
    _programme(audience)
    assert feedback.invite_due(now=ENDED + timedelta(hours=3)) == asked


def test_the_manage_page_turns_feedback_mail_off_and_on(client, ctx):
    _programme()
    registration = db.session.scalars(
        select(Registration).where(Registration.email == "berk@example.org")
    ).one()
    page = f"/registrations/{manage_token(registration)}"
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(page).get_data(as_text=True)
    ).group(1)
    answer = client.post(
        page + "/feedback-mails", data={"wanted": "no", "csrf_token": token}, follow_redirects=True
    )
    assert 'id="feedback-mails-done"' in answer.get_data(as_text=True)  # in Turkish, his language
    assert not feedback.wants_feedback_mail("berk@example.org")
    assert feedback.invite_due(now=ENDED + timedelta(hours=3)) == 2  # Ayşe and Dana
    client.post(page + "/feedback-mails", data={"wanted": "yes", "csrf_token": token})
    assert feedback.wants_feedback_mail("berk@example.org")
    assert (
        client.post(
            page + "/feedback-mails", data={"wanted": "maybe", "csrf_token": token}
        ).status_code
        == 400
    )


def test_an_answer_outside_the_scale_is_refused_next_to_the_question(client, ctx):
    _programme()
    feedback.invite_due(now=ENDED + timedelta(hours=3))
    db.session.commit()
    invitation = db.session.scalars(select(FeedbackInvitation)).first()
    link = f"/feedback/{feedback_token(invitation.token_nonce)}"
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(link).get_data(as_text=True)
    ).group(1)
    answer = client.post(link, data={"respect": "7", "topics": "x" * 2001, "csrf_token": token})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="respect-error"' in page and 'id="topics-error"' in page
    assert db.session.scalar(select(func.count()).select_from(FeedbackResponse)) == 0
    assert db.session.get(FeedbackInvitation, invitation.id) is not None  # still open


def test_nothing_joins_a_response_to_a_registration(any_app):
    """Ten people answer; then everything in the database is read as a stranger with a copy
    would: no column, key, date or order of responses points back to anyone."""
    app = any_app
    with app.app_context():
        format = make_format(title="Blick in die Organisation")
        session = make_session(format, starts_at=ENDED - timedelta(hours=2), ends_at=ENDED)
        people = []
        for n in range(10):
            registration = rules.register_for_session(
                session, applicant(n, language="de"), now=ENDED - timedelta(days=2)
            )
            rules.set_attendance(registration, True, now=ENDED - timedelta(hours=1))
            people.append(registration.id)
        feedback.invite_due(now=ENDED + timedelta(hours=3))
        db.session.commit()
        links = {
            invitation.registration_id: feedback_token(invitation.token_nonce)
            for invitation in db.session.scalars(select(FeedbackInvitation))
        }
        for order, registration_id in enumerate(people):
            # Each answers differently, in the order they registered, over several days.
            assert feedback.answer(
                links[registration_id],
                feedback.Answers(
                    {"respect": order % 4 + 1, "learned": (order + 1) % 4 + 1},
                    topics=f"Thema {order}",
                ),
            )
            db.session.commit()

        responses = db.session.scalars(select(FeedbackResponse)).all()
        assert len(responses) == 10
        columns = {column.name for column in FeedbackResponse.__table__.columns}
        assert columns.isdisjoint(
            {"registration_id", "email", "name", "ip", "user_agent", "created_at", "token_hash"}
        )
        # No foreign key but the session's.
        assert {fk.column.table.name for fk in FeedbackResponse.__table__.foreign_keys} == {
            "sessions"
        }
        # No time of day, and the same day for every response of the session.
        assert len({r.round_on for r in responses}) == 1
        assert all(not hasattr(r.round_on, "hour") for r in responses)
        # The keys are random (128 bits), not a counter that would give the answers' order.
        assert all(re.fullmatch(r"[0-9a-f]{32}", r.id) for r in responses)
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            # The table has no rowid: rows are stored, and read, in the keys' order.
            stored = db.session.execute(select(FeedbackResponse.id)).scalars().all()
            assert stored == sorted(stored)
        # No row of the links is left to compare with: spending deleted each one.
        assert db.session.scalar(select(func.count()).select_from(FeedbackInvitation)) == 0
        # And no response value appears anywhere that names a person.
        for registration in db.session.scalars(select(Registration)):
            state = inspect(registration)
            values = {str(getattr(registration, a.key)) for a in state.mapper.column_attrs}
            assert not values & {r.id for r in responses}


# --- in a real browser ---------------------------------------------------------------------


@pytest.fixture
def links(live_app):
    """Three open feedback links of a session that ended; the server's address."""
    app, base = live_app
    with app.app_context():
        format = make_format(title="Blick in die Polizei")
        session = make_session(format, starts_at=ENDED - timedelta(hours=2), ends_at=ENDED)
        for n in range(3):
            rules.register_for_session(
                session, applicant(n, language="ar"), now=ENDED - timedelta(days=1)
            )
        feedback.invite_due(now=ENDED + timedelta(hours=3))
        db.session.commit()
        tokens = [
            feedback_token(invitation.token_nonce)
            for invitation in db.session.scalars(select(FeedbackInvitation))
        ]
    return app, base, tokens


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_feedback_pages_have_no_wcag_violations(links, browser, language, width):
    _app, base, tokens = links
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(f"{base}/feedback/{tokens[0]}?lang={language}")
    assert page.evaluate("document.documentElement.lang") == language
    assert violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#respect-0").check()  # an error shown next to a question
    page.evaluate("document.querySelector('#topics').removeAttribute('maxlength')")
    page.fill("#topics", "x" * 2001)
    page.locator("form button[type=submit]").click()
    expect(page.locator("#topics-error")).to_be_visible()
    assert violations(page) == []
    for path in (f"/feedback/{tokens[0]}/stop", "/feedback/thanks", "/feedback/no-such-link"):
        page.goto(f"{base}{path}?lang={language}")
        assert violations(page) == [], path
    page.close()


def test_the_form_is_answered_with_the_keyboard_alone(links, browser):
    app, base, tokens = links
    page = browser.new_page()
    page.goto(f"{base}/feedback/{tokens[1]}?lang=de")

    def tab_to(selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"could not reach {selector} with Tab")

    # A radio group is one Tab stop; the arrow keys choose within it.
    tab_to("input[name=respect]")
    page.keyboard.press("ArrowDown")  # the second answer of the group: "Nicht sehr oft"
    tab_to("input[name=recommend]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # "Stimme voll und ganz zu"
    tab_to("#topics")
    page.keyboard.type("Wie werden Beschwerden bearbeitet?")
    tab_to("form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/feedback/thanks$"))
    with app.app_context():
        (response,) = db.session.scalars(select(FeedbackResponse))
        assert (response.respect, response.recommend) == (2, 4)
        assert (response.fair, response.explain, response.learned) == (None, None, None)
        assert response.topics == "Wie werden Beschwerden bearbeitet?"
    page.close()


# --- the organisers' page: how many answered, and the free texts ---------------------------


def _answered(app, format_id: int, count: int) -> int:
    """A date of the format that ended, `count` of whose people answered with free texts."""
    with app.app_context():
        format = db.session.get(Format, format_id)
        session = make_session(format, starts_at=ENDED - timedelta(hours=2), ends_at=ENDED)
        for n in range(count):
            rules.register_for_session(session, applicant(f"f{n}"), now=ENDED - timedelta(days=1))
        feedback.invite_due(now=ENDED + timedelta(hours=3))
        for invitation in db.session.scalars(select(FeedbackInvitation)).all():
            token = feedback_token(invitation.token_nonce)
            assert feedback.answer(token, feedback.Answers({}, topics="Ausweiskontrollen"))
        db.session.commit()
        return session.id


def test_texts_wait_for_five_answers(app, office):
    session_id = _answered(app, office["format"], 4)
    page = office["client"].get(f"/organiser/sessions/{session_id}/feedback")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Antworten: weniger als 5" in html
    assert "Ausweiskontrollen" not in html


def test_an_organiser_releases_or_hides_a_text_with_a_reason(app, office):
    session_id = _answered(app, office["format"], 5)
    client = office["client"]
    url = f"/organiser/sessions/{session_id}/feedback"
    html = client.get(url).get_data(as_text=True)
    assert "Antworten: 5" in html and html.count("Ausweiskontrollen") == 5
    with app.app_context():
        first, second = sorted(db.session.scalars(select(FeedbackResponse.id)).all())[:2]
    token = re.search(r'name="t\w+-csrf_token" type="hidden" value="([^"]+)"', html)[1]

    def decide(response_id: str, decision: str, reason: str = ""):
        prefix = f"t{response_id[:12]}"
        data = {"decision": decision, "reason": reason, "csrf_token": token}
        return client.post(
            f"{url}/{response_id}", data={f"{prefix}-{key}": value for key, value in data.items()}
        )

    refused = decide(first, "hidden")  # hiding needs a reason
    assert refused.status_code == 422
    assert f'id="t{first[:12]}-reason-error"' in refused.get_data(as_text=True)
    done = decide(first, "hidden", "nennt eine Person")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"#text-{first[:12]}-done")
    assert decide(second, "released").status_code == 303
    with app.app_context():
        hidden, released = (
            db.session.get(FeedbackResponse, first),
            db.session.get(FeedbackResponse, second),
        )
        assert (hidden.texts_state, hidden.texts_reason) == (TextsState.HIDDEN, "nennt eine Person")
        assert released.texts_state == TextsState.RELEASED
        assert released.texts_decided_at is not None

    # Unreleased texts go with the session's personal data; released ones stay.
    with app.app_context():
        feedback.forget_texts(now=ENDED + timedelta(days=91), retention_days=90)
        db.session.commit()
        kept = {r.id: r.topics for r in db.session.scalars(select(FeedbackResponse))}
    assert kept[second] == "Ausweiskontrollen"
    assert [topics for key, topics in kept.items() if key != second] == [""] * 4


def test_another_host_sees_no_feedback(app, office):
    with app.app_context():
        other = make_format(title="Blick in die Organisation")  # hosted by someone else
        db.session.commit()
        other_id = other.id
    session_id = _answered(app, other_id, 5)
    assert office["client"].get(f"/organiser/sessions/{session_id}/feedback").status_code == 404
    with app.app_context():
        response_id = db.session.scalars(select(FeedbackResponse.id)).first()
    token = csrf_token(office["client"], f"/organiser/sessions/{office['session']}")
    answer = office["client"].post(
        f"/organiser/sessions/{session_id}/feedback/{response_id}",
        data={"csrf_token": token, "decision": "released"},
    )
    assert answer.status_code == 404


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_organisers_feedback_page_has_no_wcag_violations(live_app, browser, language, width):
    app, base = live_app
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST)
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        format_id = make_format(host, title="Blick in die Polizei").id
        db.session.commit()
    session_id = _answered(app, format_id, 5)
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(f"{base}/auth/login?lang={language}")
    page.locator("#email").fill("kim@polizei.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.goto(f"{base}/organiser/sessions/{session_id}/feedback")
    assert violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#texts form button[type=submit]").first.click()  # no decision: errors
    expect(page.locator(".error-summary").first).to_be_visible()
    assert violations(page) == []
    page.close()
