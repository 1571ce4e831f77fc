"""Hostile input on every form: never a 500, invalid input writes nothing, output escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.feedback_items import ITEM_BY_KEY
from eventsapp.models import FeedbackInvitation, OrganisationKind, Role
from eventsapp.services import feedback
from eventsapp.services import registrations as rules
from eventsapp.tokens import feedback_token, manage_token
from tests.conftest import csrf_token, login, make_app
from tests.factories import applicant, make_format, make_organisation, make_session, make_user

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "{% raw %}",
    "'; DROP TABLE registrations; --",
    "\u2028\u2029",
    "\x1b[31m",
    "\r\nBcc: x@y.z",
    "a" * 10_000,
    "😀" * 500,
    "١٢٣",
    "0",
    "-1",
    "99999999999999999999999",
    "1e308",
    "NaN",
    "2026-02-30",
    "2026-03-29",
    "02:30",
    "25:61",
    "9999-12-31",
    "0000-00-00",
    "",
]
hostile = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
)
# Plausible values, so hostile text in one field also reaches the pages that show it.
PLAUSIBLE = {
    "email": st.builds("p{}@example.org".format, st.integers(0, 10**9)),
    "consent": st.just("y"),
    "language": st.just("de"),
    "kind": st.just("monthly"),
    "end": st.just("count"),
    "count": st.just("2"),
    "interval": st.just("1"),
    "weekday": st.just("1"),
    "nth": st.just("2"),
    "start_date": st.just("2027-01-01"),
    "start_time": st.just("18:00"),
    "end_time": st.just("20:00"),
    "scope": st.just("this"),
    "capacity": st.just("20"),
    "duration_minutes": st.just("120"),
    "visibility": st.just("public"),
    "announce_to": st.just("all"),
    "kind_org": st.just("partner"),
    "role": st.just("partner"),
    "seats": st.just("1"),
    "release_date": st.just("2026-12-01"),
    "release_time": st.just("12:00"),
    "step_free": st.sampled_from(["", "yes", "no"]),
    "contact_phone": st.just("0231 132-0"),
    "feedback_audience": st.sampled_from(["attended", "confirmed", "nobody"]),
    "feedback_delay_hours": st.just("3"),
    **{item: st.sampled_from(["", "0", "1", "4"]) for item in ITEM_BY_KEY},
}


def field_values(name: str):
    if name in PLAUSIBLE:
        return st.one_of(PLAUSIBLE[name], hostile)
    return hostile


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FORMS = {
    # endpoint url template: the fields it takes
    "/sessions/{session}/register": [
        "name",
        "email",
        "organisation",
        "question",
        "question_named",
        "language",
        "consent",
    ],
    "/registrations/{token}/question": ["question", "question_named"],
    "/formats/blick/subscribe": ["email", "language"],
    "/privacy/my-data": ["email"],
    "/accessibility": ["message", "email"],
    "/organiser/formats/new": [
        "title",
        "summary",
        "description",
        "host_organisation",
        "venue_name",
        "venue_address",
        "duration_minutes",
        "capacity",
        "visibility",
        "reminder_hours",
        "announce_to",
        "what_happens",
        "what_to_bring",
        "meeting_point",
        "step_free",
        "accessibility_note",
        "contact_name",
        "contact_phone",
        "contact_email",
        "feedback_audience",
        "feedback_delay_hours",
    ],
    "/organiser/formats/{format}/schedule": [
        "kind",
        "interval",
        "weekday",
        "nth",
        "start_date",
        "start_time",
        "end",
        "count",
        "until",
        "dates",
    ],
    "/organiser/sessions/{session}/edit": [
        "start_date",
        "start_time",
        "end_time",
        "scope",
        "venue_name",
        "venue_address",
        "host_organisation",
        "capacity",
        "languages",
        "interpreting",
        "note",
        "meeting_point",
        "what_to_bring",
        "contact_phone",
        "contact_email",
    ],
    "/organiser/sessions/{session}/registrations": ["name", "email", "organisation", "language"],
    "/organiser/sessions/{session}/contingents": [
        "organisation",
        "seats",
        "release_date",
        "release_time",
    ],
    "/organiser/sessions/{session}/cancel": ["reason"],
    "/organiser/formats/{format}/translations": [
        "title_tr",
        "summary_ar",
        "description_uk",
        "what_to_bring_ar",
        "meeting_point_tr",
    ],
    "/admin/organisations/new": [
        "name",
        "kind",
        "contact_email",
        "website",
        "venue_name",
        "embed_origins",
    ],
    "/admin/users": ["name", "email", "role", "organisation", "language"],
    "/auth/account": ["current", "password", "confirm"],
    "/feedback/{feedback}": [*ITEM_BY_KEY, "topics", "other"],
}


@pytest.fixture
def site(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
        host = make_organisation(OrganisationKind.HOST, slug="polizei")
        make_organisation(OrganisationKind.PARTNER, slug="vmdo")
        format = make_format(host, slug="blick", title="Blick")
        session = make_session(format, capacity=5, starts_at=utcnow() + timedelta(days=20))
        registration = rules.register_for_session(session, applicant(1), now=utcnow())
        # A date that ended, with a feedback link open.
        ended = make_session(format, starts_at=utcnow() - timedelta(hours=6))
        rules.register_for_session(ended, applicant(2), now=utcnow() - timedelta(days=1))
        feedback.invite_due(now=utcnow())
        make_user(Role.ADMIN, email="admin@example.org")
        db.session.commit()
        invitation = db.session.scalars(select(FeedbackInvitation)).one()
        ids = {
            "format": format.id,
            "session": session.id,
            "token": manage_token(registration),
            "feedback": feedback_token(invitation.token_nonce),
        }
    client = app.test_client()
    login(client, "admin@example.org")
    return app, client, ids


def _rows(app) -> dict:
    with app.app_context():
        return {t.name: db.session.execute(t.select()).all() for t in db.metadata.sorted_tables}


@pytest.mark.parametrize("url", list(FORMS), ids=list(FORMS))
def test_hostile_form_input(site, url):
    app, client, ids = site
    address = url.format(**ids)
    token = csrf_token(client, "/auth/account")

    @SETTINGS
    @given(values=st.fixed_dictionaries({name: field_values(name) for name in FORMS[url]}))
    def post(values):
        before = _rows(app)
        response = client.post(address, data={**values, "csrf_token": token})
        html = response.get_data(as_text=True)
        assert response.status_code < 500, (address, values)
        if response.status_code in (302, 303):  # and the page it leads to shows it safely
            follow = client.get(response.headers["Location"])
            assert follow.status_code < 500, (address, values)
            html += follow.get_data(as_text=True)
        if response.status_code >= 400:
            after = _rows(app)
            if response.status_code == 409:  # "already registered": the link is mailed again
                after.pop("outbox_messages"), before.pop("outbox_messages")
            assert after == before, (address, values)  # refused input writes nothing
        for payload in ("<script>alert(1)</script>", "<img src=x onerror"):
            assert payload not in html, (address, values)

    post()
