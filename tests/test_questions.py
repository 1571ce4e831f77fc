"""Questions ahead: people send a question or topic with their registration or later from
the manage page; organisers see them on the session page, named only with consent, and
they go with the registration's personal data."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.models import OrganisationKind, Registration, Role
from eventsapp.services import personal_data
from eventsapp.services import registrations as rules
from eventsapp.tokens import manage_token
from tests.conftest import csrf_token, login, make_app
from tests.factories import applicant, make_format, make_organisation, make_session, make_user
from tests.test_hostile_input import SETTINGS, hostile


def _register(client, session_id: int, n: int, question: str = "", named: bool = False):
    page = f"/sessions/{session_id}"
    data = {
        "csrf_token": csrf_token(client, page),
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "language": "de",
        "consent": "y",
        "question": question,
    }
    if named:
        data["question_named"] = "y"
    return client.post(f"{page}/register", data=data)


def _question_items(html: str) -> list[str]:
    """The questions section of the organiser's page, one text per item, tags removed."""
    section = html.split('id="questions"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def _manage(app, email: str) -> str:
    with app.app_context():
        registration = db.session.execute(
            select(Registration).where(Registration.email == email)
        ).scalar_one()
        return f"/registrations/{manage_token(registration)}"


def test_questions_reach_the_organisers_named_only_with_consent(app, office):
    visitor = app.test_client()
    assert _register(visitor, office["session"], 1, "Wie werde ich Polizistin?").status_code == 303
    assert (
        _register(
            visitor, office["session"], 2, "Anzeige erstatten: wie geht das?", named=True
        ).status_code
        == 303
    )
    assert _register(visitor, office["session"], 3).status_code == 303  # no question
    # Ticking "name me" without a question names nobody.
    assert _register(visitor, office["session"], 4, "", named=True).status_code == 303

    html = office["client"].get(f"/organiser/sessions/{office['session']}").get_data(as_text=True)
    assert _question_items(html) == [
        "Anzeige erstatten: wie geht das? Gefragt von Person 2",
        "Wie werde ich Polizistin?",  # in the order of the text, not of registration
    ]
    with app.app_context():
        rows = db.session.execute(
            select(Registration.email, Registration.question_named).order_by(Registration.id)
        ).all()
    assert [named for _, named in rows] == [False, True, False, False]

    # Another organisation's organiser sees nothing of it.
    with app.app_context():
        other = make_organisation(OrganisationKind.HOST, name="Andere Behörde")
        make_user(Role.ORGANISER, other, email="other@polizei.example")
        db.session.commit()
    stranger = app.test_client()
    login(stranger, "other@polizei.example")
    assert stranger.get(f"/organiser/sessions/{office['session']}").status_code == 404


def test_the_question_is_changed_and_withdrawn_on_the_manage_page(app, office):
    visitor = app.test_client()
    _register(visitor, office["session"], 1, "Erste Frage")
    manage = _manage(app, "person1@example.org")
    page = visitor.get(manage).get_data(as_text=True)
    assert "Erste Frage</textarea>" in page

    response = visitor.post(
        f"{manage}/question",
        data={
            "csrf_token": csrf_token(visitor, manage),
            "question": "Zweite Frage",
            "question_named": "y",
        },
    )
    assert response.status_code == 303 and "#question" in response.headers["Location"]
    assert "Ihre Frage ist gespeichert." in visitor.get(manage).get_data(as_text=True)
    html = office["client"].get(f"/organiser/sessions/{office['session']}").get_data(as_text=True)
    assert _question_items(html) == ["Zweite Frage Gefragt von Person 1"]

    # Too long: refused next to the field, in the page's language, nothing changes.
    response = visitor.post(
        f"{manage}/question?lang=en",
        data={"csrf_token": csrf_token(visitor, manage), "question": "x" * 501},
    )
    assert response.status_code == 422
    assert 'id="question-error"' in response.get_data(as_text=True)
    assert "no more than 500 characters" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Registration.question)).scalar_one() == "Zweite Frage"

    # An empty text withdraws it, and the consent to be named with it.
    visitor.post(
        f"{manage}/question", data={"csrf_token": csrf_token(visitor, manage), "question": ""}
    )
    html = office["client"].get(f"/organiser/sessions/{office['session']}").get_data(as_text=True)
    assert _question_items(html) == []
    with app.app_context():
        row = db.session.execute(select(Registration.question, Registration.question_named)).one()
    assert tuple(row) == ("", False)


def test_questions_end_with_the_registration_and_its_personal_data(app, office):
    visitor = app.test_client()
    _register(visitor, office["session"], 1, "Was passiert mit meinen Daten?")
    _register(visitor, office["session"], 2, "Gibt es Dolmetscher?")
    manage = _manage(app, "person1@example.org")

    # The person sees it in their data export.
    with app.app_context():
        export = personal_data.export("person1@example.org")
    assert export["registrations"][0]["question"] == "Was passiert mit meinen Daten?"

    # A cancelled registration's question is no longer shown.
    visitor.post(
        f"{manage}/cancel", data={"csrf_token": csrf_token(visitor, manage), "confirmed": "1"}
    )
    html = office["client"].get(f"/organiser/sessions/{office['session']}").get_data(as_text=True)
    assert _question_items(html) == ["Gibt es Dolmetscher?"]

    # Erasure and the retention period remove the text itself.
    with app.app_context():
        personal_data.erase("person1@example.org", now=utcnow())
        session = db.session.get(Registration, 2).session
        session.starts_at -= timedelta(days=400)
        session.ends_at -= timedelta(days=400)
        personal_data.anonymise_past_registrations(now=utcnow(), retention_days=180)
        db.session.commit()
        texts = db.session.execute(select(Registration.question, Registration.question_named)).all()
    assert [tuple(row) for row in texts] == [("", False), ("", False)]


def test_after_the_start_the_question_can_no_longer_change(app, office):
    visitor = app.test_client()
    _register(visitor, office["session"], 1, "Frage")
    manage = _manage(app, "person1@example.org")
    token = csrf_token(visitor, manage)
    with app.app_context():
        registration = db.session.execute(select(Registration)).scalar_one()
        registration.session.starts_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    page = visitor.get(manage).get_data(as_text=True)
    assert "<textarea" not in page and "Frage" in page  # shown, not editable
    assert (
        visitor.post(
            f"{manage}/question", data={"csrf_token": token, "question": "neu"}
        ).status_code
        == 404
    )


def test_hostile_questions_are_escaped_wherever_they_are_shown(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
        host = make_organisation(OrganisationKind.HOST)
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        session = make_session(make_format(host), capacity=500)
        registration = rules.register_for_session(session, applicant(0), now=utcnow())
        db.session.commit()
        session_id, manage = session.id, f"/registrations/{manage_token(registration)}"
    visitor, organiser = app.test_client(), app.test_client()
    login(organiser, "kim@polizei.example")
    counter = iter(range(1, 10_000))

    @SETTINGS
    @given(text=hostile, named=st.booleans())
    def ask(text, named):
        for response in (
            _register(visitor, session_id, next(counter), text, named),
            visitor.post(
                f"{manage}/question",
                data={
                    "csrf_token": csrf_token(visitor, manage),
                    "question": text,
                    **({"question_named": "y"} if named else {}),
                },
            ),
        ):
            assert response.status_code < 500, text
        for page in (
            organiser.get(f"/organiser/sessions/{session_id}"),
            visitor.get(manage),
        ):
            html = page.get_data(as_text=True)
            assert page.status_code == 200
            for payload in ("<script>alert(1)</script>", "<img src=x onerror"):
                assert payload not in html, text

    ask()
