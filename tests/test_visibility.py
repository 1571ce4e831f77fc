"""One visibility rule for every listing of sessions.

Hypothesis builds small programmes (formats public or for partners, sessions in every
status, past and future, hosted by the police or a partner, registrations) and checks, for
every kind of viewer, that pages, the API, every kind of calendar feed, announcement mails
and reminders show exactly the sessions `visible_sessions` allows, and that this function
agrees with the rule as written in its module docstring (a reference kept here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from eventsapp.database import db, utcnow
from eventsapp.models import (
    ACTIVE,
    Format,
    OrganisationKind,
    OutboxMessage,
    Publication,
    Registration,
    Role,
    Session,
    SessionStatus,
    Visibility,
)
from eventsapp.services import announcements, feeds, subscriptions
from eventsapp.services import registrations as rules
from eventsapp.services import sessions as listing
from eventsapp.services.housekeeping import queue_reminders
from tests.conftest import login, make_app
from tests.factories import applicant, make_format, make_organisation, make_session, make_user

FAN = "fan@example.org"  # no account: follows both formats, registers sometimes
MEMBER = "mitglied@vmdo.example"  # partner member
OTHER = "orga@andere.example"  # organiser of an organisation that hosts nothing here
CONTACT = "kontakt@vmdo.example"  # the partner organisation's contact address
VIEWERS = ("anonymous", "subscriber", "partner member", "organiser elsewhere")
ADDRESS = {"subscriber": FAN, "partner member": MEMBER, "organiser elsewhere": OTHER}

DAYS = {"long ago": -200, "last week": -7, "in 3 days": 3, "in a month": 30}
session_spec = st.tuples(
    st.integers(0, 1),  # which format
    st.sampled_from(list(SessionStatus)),
    st.sampled_from(sorted(DAYS)),
    st.booleans(),  # hosted by the partner organisation
    st.booleans(),  # the subscriber registered (published sessions only)
    st.booleans(),  # the partner member registered
)
programmes = st.tuples(
    st.lists(st.sampled_from(list(Visibility)), min_size=2, max_size=2),
    st.lists(session_spec, min_size=1, max_size=6),
)


@dataclass
class World:
    sessions: list[Session]
    partner_id: int
    format_slugs: list[str]


def _clear() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    db.session.commit()


def _build(visibilities, specs) -> World:
    now = utcnow()
    police = make_organisation(slug="polizei", name="Polizei")
    partner = make_organisation(
        OrganisationKind.PARTNER, slug="vmdo", name="VMDO", contact_email=CONTACT
    )
    other = make_organisation(slug="andere", name="Andere Behörde")
    member = make_user(Role.PARTNER, partner, email=MEMBER)
    make_user(Role.ORGANISER, other, email=OTHER)
    formats = [
        make_format(police, slug=f"format-{i}", visibility=visibility, reminder_offsets="10080")
        for i, visibility in enumerate(visibilities)
    ]
    sessions = []
    for index, status, when, at_partner, fan, mine in specs:
        session = make_session(
            formats[index],
            starts_at=now + timedelta(days=DAYS[when]),
            host_organisation=partner if at_partner else police,
            capacity=5,
        )
        if status == SessionStatus.PUBLISHED and DAYS[when] > 0:
            if fan:
                rules.register_for_session(session, applicant("fan", email=FAN), now=now)
            if mine:
                rules.register_for_session(session, rules.Applicant.from_user(member), now=now)
        session.status = status
        sessions.append(session)
    for format in formats:
        for email in (FAN, MEMBER, OTHER):
            subscriptions.request_subscription(format, email, "de", now=now)
            subscriptions.confirm(subscriptions._find(format, email), now=now)
    for email in (FAN, MEMBER, OTHER):
        feeds.personal_feed_for(email, now=now)
    db.session.commit()
    return World(sessions, partner.id, [f.slug for f in formats])


def _audience(viewer: str) -> listing.Audience:
    if viewer == "anonymous":
        return listing.ANONYMOUS
    return listing.audience_for_address(ADDRESS[viewer])


def _reference(viewer: str, session: Session) -> bool:
    """The rule in plain words: drafts never; partners' formats for account holders; one's
    own registrations always; public formats for everyone."""
    if session.status not in (SessionStatus.PUBLISHED, SessionStatus.CANCELLED):
        return False
    if session.format.visibility == Visibility.PUBLIC or viewer in (
        "partner member",
        "organiser elsewhere",
    ):
        return True
    email = ADDRESS.get(viewer)
    return email is not None and session.id in registered_sessions(email)


def registered_sessions(email: str) -> set[int]:
    return set(
        db.session.execute(
            select(Registration.session_id).where(
                Registration.email == email, Registration.status.in_(ACTIVE)
            )
        ).scalars()
    )


SESSION_LINK = re.compile(r'href="/sessions/(\d+)"')
UID = re.compile(r"UID:session-(\d+)@")


def _linked(html: str) -> set[int]:
    return {int(i) for i in SESSION_LINK.findall(html)}


def _uids(body: bytes) -> set[int]:
    return {int(i) for i in UID.findall(body.decode())}


@pytest.fixture
def app(tmp_path):
    """Rate limits off: the examples sign the same accounts in many times."""
    app = make_app(tmp_path, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
    return app


def _client(app, viewer: str):
    client = app.test_client()
    if viewer in ("partner member", "organiser elsewhere"):
        assert login(client, ADDRESS[viewer]).status_code == 303
    return client  # a subscriber browses like anyone else: without an account


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(programme=programmes)
def test_every_listing_shows_what_the_one_rule_allows(app, programme):
    visibilities, specs = programme
    with app.app_context():
        _clear()
        world = _build(visibilities, specs)
        now = utcnow()
        window = feeds.window_start(now)
        by_id = {s.id: s for s in db.session.execute(select(Session)).unique().scalars()}
        allowed = {}
        for viewer in VIEWERS:
            audience = _audience(viewer)
            allowed[viewer] = set(
                db.session.execute(
                    listing.visible_sessions(audience).with_only_columns(Session.id)
                ).scalars()
            )
            assert allowed[viewer] == {i for i, s in by_id.items() if _reference(viewer, s)}
        upcoming = {
            i for i, s in by_id.items() if s.status == SessionStatus.PUBLISHED and s.ends_at > now
        }
        in_window = {i for i, s in by_id.items() if s.ends_at > window}
        future = {i for i, s in by_id.items() if s.ends_at > now}
        at_partner = {i for i, s in by_id.items() if s.host_organisation_id == world.partner_id}
        of_format = {
            slug: {i for i, s in by_id.items() if s.format.slug == slug}
            for slug in world.format_slugs
        }
        registered = {email: registered_sessions(email) for email in ADDRESS.values()}
        feed_tokens = {
            email: feeds.feed_token(feeds.find_personal_feed_by_email(email))
            for email in ADDRESS.values()
        }
        visible_formats = {
            viewer: {
                slug
                for slug, visibility in zip(world.format_slugs, visibilities, strict=True)
                if visibility in _audience(viewer).visibilities
            }
            for viewer in VIEWERS
        }

    for viewer in VIEWERS:
        client = _client(app, viewer)
        # A subscriber's pages are an anonymous visitor's: the address is not known there.
        signed_in = viewer in ("partner member", "organiser elsewhere")
        sees = allowed[viewer if signed_in else "anonymous"]

        def hidden(path: str, page) -> None:
            """Signed in: 404. Anonymous: asked to sign in, whatever the page is."""
            if signed_in:
                assert page.status_code == 404
            else:
                assert page.status_code == 302
                assert page.headers["Location"] == f"/auth/login?next={path}"

        assert _linked(client.get("/").get_data(as_text=True)) == sees & upcoming
        for slug in world.format_slugs:
            page = client.get(f"/formats/{slug}")
            if slug in visible_formats[viewer if signed_in else "anonymous"]:
                assert _linked(page.get_data(as_text=True)) == sees & upcoming & of_format[slug]
            else:
                hidden(f"/formats/{slug}", page)
        page = client.get("/organisations/vmdo").get_data(as_text=True)
        assert _linked(page) == sees & upcoming & at_partner
        api = client.get("/api/v1/sessions").get_json()
        assert {item["id"] for item in api} == sees & future
        for session_id in [*by_id, max(by_id, default=0) + 1]:  # and one that does not exist
            page = client.get(f"/sessions/{session_id}")
            if session_id in sees:
                assert page.status_code == 200
            else:
                hidden(f"/sessions/{session_id}", page)
            expected = 200 if session_id in sees else 404
            assert client.get(f"/sessions/{session_id}.ics").status_code == expected

    # Calendar apps are anonymous.
    anonymous = app.test_client()
    public = allowed["anonymous"] & in_window
    assert _uids(anonymous.get("/calendar.ics").data) == public
    for slug in world.format_slugs:
        response = anonymous.get(f"/formats/{slug}.ics")
        if slug in visible_formats["anonymous"]:
            assert _uids(response.data) == public & of_format[slug]
        else:
            assert response.status_code == 404
    assert _uids(anonymous.get("/organisations/vmdo.ics").data) == public & at_partner

    # Personal feeds: one's registrations and, for a partner, what the partner hosts.
    for viewer, email in ADDRESS.items():
        mine = registered[email] | (at_partner if viewer == "partner member" else set())
        body = anonymous.get(f"/feeds/{feed_tokens[email]}.ics").data
        assert _uids(body) == allowed[viewer] & in_window & mine

    with app.app_context():
        # Announcements: every published session of each format is announced at once.
        recipients = {**ADDRESS, "partner contact": CONTACT}
        expected_for = {**allowed}
        # The contact address of the partner organisation sees what partners see.
        expected_for["partner contact"] = {
            i
            for i, s in by_id.items()
            if s.status in (SessionStatus.PUBLISHED, SessionStatus.CANCELLED)
        }
        contact = listing.visible_sessions(listing.audience_for_address(CONTACT))
        assert (
            set(db.session.execute(contact.with_only_columns(Session.id)).scalars())
            == (expected_for["partner contact"])
        )
        db.session.execute(delete(OutboxMessage))
        for slug in world.format_slugs:
            format_id = db.session.execute(
                select(Format.id).where(Format.slug == slug)
            ).scalar_one()
            publication = Publication(format_id=format_id, created_at=now)
            db.session.add(publication)
            db.session.flush()
            published = list(
                db.session.execute(
                    select(Session)
                    .join(Format)
                    .where(Format.slug == slug, Session.status == SessionStatus.PUBLISHED)
                ).scalars()
            )
            for session in published:
                session.publication_id = publication.id
            db.session.flush()
            announcements.announce(publication, now=now)
            for name, email in recipients.items():
                mail = db.session.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.dedupe_key == f"publication:{publication.id}:{email}"
                    )
                ).scalar_one_or_none()
                listed = _linked_text(mail.body_text) if mail else set()
                assert listed == expected_for[name] & {s.id for s in published}, (
                    name,
                    slug,
                    listed,
                    expected_for[name],
                    [(s.id, s.status, s.format.visibility) for s in published],
                )

        # Reminders: every due one, and only those the registrant may see.
        db.session.execute(delete(OutboxMessage))
        queue_reminders(now=now)
        reminded = set(
            db.session.execute(
                select(Registration.session_id, Registration.email)
                .join(OutboxMessage, OutboxMessage.registration_id == Registration.id)
                .where(OutboxMessage.deferred_template == "registration_reminder")
            ).all()
        )
        due = {
            (r.session_id, r.email)
            for r in db.session.execute(select(Registration)).scalars()
            if r.status == "confirmed"
            and by_id[r.session_id].status == SessionStatus.PUBLISHED
            and now < by_id[r.session_id].starts_at <= now + timedelta(days=7)
        }
        viewer_of = {email: viewer for viewer, email in ADDRESS.items()}
        assert reminded == {(s, e) for s, e in due if s in allowed[viewer_of[e]]}
        db.session.rollback()


def _linked_text(text: str) -> set[int]:
    return {int(i) for i in re.findall(r"/sessions/(\d+)\b(?!\.ics)", text)}
