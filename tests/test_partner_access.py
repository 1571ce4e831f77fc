"""Partner members see partners-only sessions and use their organisation's contingent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.models import (
    Contingent,
    OrganisationKind,
    Registration,
    Role,
    SessionStatus,
    Visibility,
)
from eventsapp.tokens import manage_token
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_format, make_organisation, make_session, make_user


def test_partner_sessions_are_hidden_from_anonymous_visitors_only(app):
    with app.app_context():
        partner = make_organisation(OrganisationKind.PARTNER)
        make_user(Role.PARTNER, partner, email="mitglied@verein.example")
        closed = make_format(title="Werkstattgespräch", visibility=Visibility.PARTNERS)
        session = make_session(closed)
        db.session.commit()
        session_id, slug = session.id, closed.slug
    anonymous = app.test_client()
    assert "Werkstattgespräch" not in anonymous.get("/").get_data(as_text=True)
    for path in (f"/sessions/{session_id}", f"/formats/{slug}"):
        answer = anonymous.get(path)
        assert answer.status_code == 302
        assert answer.headers["Location"] == f"/auth/login?next={path}"
        login_page = anonymous.get(answer.headers["Location"]).get_data(as_text=True)
        assert "Diese Seite ist nicht öffentlich." in login_page
        assert "Werkstattgespräch" not in login_page

    # A member following the link from a mail: signs in and lands on the session.
    member = app.test_client()
    link = f"/sessions/{session_id}"
    to_login = member.get(link).headers["Location"]
    token = csrf_token(member, to_login)
    signed_in = member.post(
        to_login,
        data={"csrf_token": token, "email": "mitglied@verein.example", "password": PASSWORD},
    )
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == link
    page = member.get(link)
    assert page.status_code == 200 and "Werkstattgespräch" in page.get_data(as_text=True)
    assert "Werkstattgespräch" in member.get("/").get_data(as_text=True)


def test_signed_in_people_get_404_for_what_they_may_not_see(app):
    """Every account sees the partners' dates; drafts and dates that do not exist are 404
    for them, without a sign-in prompt and without a title."""
    with app.app_context():
        partner = make_organisation(OrganisationKind.PARTNER)
        make_user(Role.PARTNER, partner, email="mitglied@verein.example")
        draft = make_session(make_format(title="Entwurf Werkstatt"), status=SessionStatus.DRAFT)
        db.session.commit()
        ids = (draft.id, draft.id + 1000)
    member = app.test_client()
    login(member, "mitglied@verein.example")
    for session_id in ids:
        answer = member.get(f"/sessions/{session_id}")
        assert answer.status_code == 404
        assert "Entwurf Werkstatt" not in answer.get_data(as_text=True)


def test_a_member_registering_uses_the_contingent_and_sees_it(app):
    with app.app_context():
        partner = make_organisation(OrganisationKind.PARTNER)
        make_user(Role.PARTNER, partner, email="mitglied@verein.example", name="Deniz Kaya")
        session = make_session(capacity=2)
        db.session.add(
            Contingent(
                session_id=session.id,
                organisation=partner,
                seats=2,
                release_at=utcnow() + timedelta(days=1),
            )
        )
        db.session.commit()
        session_id = session.id
    anonymous = app.test_client()
    page = anonymous.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "Auf die Warteliste setzen" in page  # both seats are kept for the partner

    member = app.test_client()
    login(member, "mitglied@verein.example")
    url = f"/sessions/{session_id}"
    page = member.get(url).get_data(as_text=True)
    assert "Für Ihre Organisation sind noch 2 Plätze reserviert." in page
    assert 'value="Deniz Kaya"' in page and 'value="mitglied@verein.example"' in page
    response = member.post(
        f"{url}/register",
        data={
            "name": "Deniz Kaya",
            "email": "mitglied@verein.example",
            "language": "de",
            "consent": "y",
            "csrf_token": csrf_token(member, url),
        },
    )
    assert response.status_code == 303
    with app.app_context():
        registration = db.session.execute(select(Registration)).scalar_one()
        assert registration.status == "confirmed"
        assert registration.contingent_id is not None and registration.user_id is not None
        # Their own address, proven by signing in: straight to their own manage page.
        assert response.headers["Location"] == f"/registrations/{manage_token(registration)}"


def test_members_register_through_the_form_for_partners_only_sessions(app):
    with app.app_context():
        partner = make_organisation(OrganisationKind.PARTNER)
        make_user(Role.PARTNER, partner, email="mitglied@verein.example", name="Deniz Kaya")
        session = make_session(make_format(visibility=Visibility.PARTNERS))
        db.session.commit()
        url = f"/sessions/{session.id}"
    member = app.test_client()
    login(member, "mitglied@verein.example")
    data = {
        "name": "Deniz Kaya",
        "email": "mitglied@verein.example",
        "language": "de",
        "consent": "y",
        "csrf_token": csrf_token(member, url),
    }
    assert member.post(f"{url}/register", data=data).status_code == 303
    with app.app_context():
        assert db.session.execute(select(Registration.status)).scalar_one() == "confirmed"


def test_jobs_run_releases_contingents(app, runner):
    with app.app_context():
        from eventsapp.services import registrations as rules
        from tests.factories import applicant

        partner = make_organisation(OrganisationKind.PARTNER)
        session = make_session(capacity=1)
        contingent = Contingent(
            session_id=session.id,
            organisation=partner,
            seats=1,
            release_at=utcnow() + timedelta(days=1),
        )
        db.session.add(contingent)
        waiting = rules.register_for_session(session, applicant(1), now=utcnow())
        assert waiting.status == "waitlisted"
        contingent.release_at = utcnow() - timedelta(minutes=1)  # the release time passes
        db.session.commit()
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0 and "1 people moved up" in result.output
    with app.app_context():
        assert db.session.execute(select(Registration.status)).scalar_one() == "confirmed"
