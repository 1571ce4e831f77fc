"""The seat rules against a reference model, through random sequences of everything that
changes seats: one session with two partner contingents, approval switched on and off.

The model below is the rule book written as plainly as possible: a list of registrations,
and promotion as a walk down the waitlist in order. The app does the same with prepared
statements that never walk the waitlist (`eventsapp.services.seats`). After every step the
two must agree on who is confirmed, pending or waiting, and in which order; seats held
never exceed the capacity; and a partner's kept seats are held by its own members only.
Runs on SQLite and on PostgreSQL (`any_app`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.models import (
    Contingent,
    OrganisationKind,
    Registration,
    RegistrationStatus,
    Role,
    User,
)
from eventsapp.services import contingents, scheduling
from eventsapp.services import registrations as rules
from eventsapp.services.recurrence import RecurrenceError
from tests.factories import applicant, make_organisation, make_session

CONFIRMED, PENDING, WAITLISTED = "confirmed", "pending", "waitlisted"
CANCELLED, REJECTED = "cancelled", "rejected"
HOLDING = (CONFIRMED, PENDING)
ACTIVE = (CONFIRMED, PENDING, WAITLISTED)
MEMBERS_PER_PARTNER = 4
_emails = count()


@dataclass
class Entry:
    """One registration as the model sees it."""

    id: int
    partner: int | None  # index of the partner organisation of a signed-in member
    member: int | None  # index of the member within it
    order: int  # when it was made
    status: str
    kept_seat_of: int | None = None  # the partner whose kept seat it holds
    priority: int = 0


class Model:
    """The rule book: contingents first for their partner, then the public pool; the
    waitlist in order; promotion walks it whenever anything changes."""

    def __init__(self, capacity: int, kept: list[int]) -> None:
        self.capacity = capacity
        self.kept = list(kept)  # seats kept per partner
        self.released = [False] * len(kept)
        self.approval = False
        self.entries: list[Entry] = []

    def holding(self) -> list[Entry]:
        return [e for e in self.entries if e.status in HOLDING]

    def free_kept(self, partner: int) -> int:
        if self.released[partner]:
            return 0
        used = sum(1 for e in self.holding() if e.kept_seat_of == partner)
        return max(self.kept[partner] - used, 0)

    def public_left(self) -> int:
        reserved = sum(self.free_kept(p) for p in range(len(self.kept)))
        return max(self.capacity - len(self.holding()) - reserved, 0)

    def waitlist(self) -> list[Entry]:
        waiting = [e for e in self.entries if e.status == WAITLISTED]
        return sorted(waiting, key=lambda e: (-e.priority, e.order))

    def seat(self, entry: Entry) -> bool:
        """Give the entry a seat if one is free to it."""
        if entry.partner is not None and self.free_kept(entry.partner) > 0:
            entry.kept_seat_of = entry.partner
        elif self.public_left() <= 0:
            return False
        entry.status = PENDING if self.approval else CONFIRMED
        return True

    def promote(self) -> None:
        for entry in self.waitlist():
            self.seat(entry)

    def register(self, entry: Entry) -> None:
        self.promote()
        self.entries.append(entry)
        if not self.seat(entry):
            entry.status = WAITLISTED


class SeatRules(RuleBasedStateMachine):
    app = None  # set by the test

    @initialize(
        capacity=st.integers(0, 3),  # public seats: few, so that people wait
        kept=st.tuples(st.integers(1, 2), st.integers(0, 2)),
        approval=st.booleans(),
    )
    def set_up(self, capacity, kept, approval):
        self.context = self.app.app_context()
        self.context.push()
        self.now = utcnow()
        self.session = make_session(capacity=capacity + sum(kept))
        self.session.format.approval_required = approval
        self.partners = [make_organisation(OrganisationKind.PARTNER) for _ in kept]
        self.members = [
            [self._member(partner) for _ in range(MEMBERS_PER_PARTNER)] for partner in self.partners
        ]
        for partner, seats in zip(self.partners, kept, strict=True):
            contingents.set_contingent(
                self.session,
                partner,
                seats=seats,
                release_at=self.session.starts_at - timedelta(days=1),
                now=self.now,
            )
        db.session.commit()
        self.model = Model(capacity + sum(kept), kept)
        self.model.approval = approval
        self.session_id = self.session.id

    def teardown(self):
        if hasattr(self, "context"):
            db.session.rollback()
            self.context.pop()

    def _member(self, partner):
        n = next(_emails)
        user = User(email=f"member{n}@partner.example", name=f"Member {n}", role=Role.PARTNER)
        user.organisation = partner
        db.session.add(user)
        db.session.flush()
        return user

    def _tick(self):
        self.now += timedelta(minutes=1)
        return self.now

    def _entries(self, *statuses):
        return [e for e in self.model.entries if e.status in statuses]

    def _registration(self, entry):
        return db.session.get(Registration, entry.id)

    # -- Steps ---------------------------------------------------------------------------

    @rule(by_organiser=st.booleans())
    def public_registration(self, by_organiser):
        n = next(_emails)
        placed = rules.take_place(
            self.session_id, applicant(f"m{n}"), now=self._tick(), by_organiser=by_organiser
        )
        db.session.commit()
        self.model.register(Entry(placed.id, None, None, len(self.model.entries), ""))

    @rule(data=st.data())
    def partner_registration(self, data):
        partner = data.draw(st.integers(0, len(self.partners) - 1), label="partner")
        busy = {e.member for e in self._entries(*ACTIVE) if e.partner == partner}
        free = [m for m in range(MEMBERS_PER_PARTNER) if m not in busy]
        if not free:
            return
        member = data.draw(st.sampled_from(free), label="member")
        user = self.members[partner][member]
        placed = rules.take_place(
            self.session_id, rules.Applicant.from_user(user), now=self._tick()
        )
        db.session.commit()
        self.model.register(Entry(placed.id, partner, member, len(self.model.entries), ""))

    @rule(data=st.data())
    def partner_rush(self, data):
        """Every free member of one partner registers: its kept seats fill, and the rest
        wait for them (or take public seats while any are left)."""
        partner = data.draw(st.integers(0, len(self.partners) - 1), label="partner")
        busy = {e.member for e in self._entries(*ACTIVE) if e.partner == partner}
        for member in range(MEMBERS_PER_PARTNER):
            if member in busy:
                continue
            user = self.members[partner][member]
            placed = rules.take_place(
                self.session_id, rules.Applicant.from_user(user), now=self._tick()
            )
            db.session.commit()
            self.model.register(Entry(placed.id, partner, member, len(self.model.entries), ""))

    @precondition(lambda self: [e for e in self._entries(*HOLDING) if e.kept_seat_of is not None])
    @rule(data=st.data())
    def kept_seat_given_up(self, data):
        """A member holding a kept seat cancels: a waiting member of the same partner, if
        any, takes that seat before anyone from the public."""
        holders = [e for e in self._entries(*HOLDING) if e.kept_seat_of is not None]
        entry = data.draw(st.sampled_from(holders), label="gave up a kept seat")
        rules.cancel_registration(self._registration(entry), now=self._tick())
        db.session.commit()
        entry.status = CANCELLED
        self.model.promote()

    @precondition(lambda self: self._entries(*ACTIVE))
    @rule(data=st.data())
    def cancellation(self, data):
        entry = data.draw(st.sampled_from(self._entries(*ACTIVE)), label="cancelled")
        rules.cancel_registration(self._registration(entry), now=self._tick())
        db.session.commit()
        held = entry.status in HOLDING
        entry.status = CANCELLED
        if held:
            self.model.promote()

    @precondition(lambda self: self._entries(PENDING))
    @rule(data=st.data(), approve=st.booleans())
    def decision(self, data, approve):
        entry = data.draw(st.sampled_from(self._entries(PENDING)), label="decided")
        if approve:
            rules.approve_registration(self._registration(entry), now=self._tick())
            entry.status = CONFIRMED
        else:
            rules.reject_registration(self._registration(entry), now=self._tick())
            entry.status = REJECTED
            self.model.promote()
        db.session.commit()

    @precondition(lambda self: self._entries(WAITLISTED))
    @rule(data=st.data())
    def move_to_top(self, data):
        entry = data.draw(st.sampled_from(self._entries(WAITLISTED)), label="moved up")
        rules.move_to_top_of_waitlist(self._registration(entry), now=self._tick())
        db.session.commit()
        entry.priority = max(e.priority for e in self._entries(WAITLISTED)) + 1

    @rule(data=st.data(), job=st.booleans())
    def release(self, data, job):
        """The release time comes; the release job runs at once, or not yet (then the next
        change that meets the waitlist hands the seats over)."""
        partner = data.draw(st.integers(0, len(self.partners) - 1), label="released")
        if self.model.released[partner]:
            return
        contingent = db.session.execute(
            select(Contingent).where(
                Contingent.session_id == self.session_id,
                Contingent.organisation_id == self.partners[partner].id,
            )
        ).scalar_one()
        now = self._tick()
        contingent.release_at = now  # its time has come
        db.session.commit()
        self.model.released[partner] = True
        if job:
            contingents.release_due_contingents(now=now)
            db.session.commit()
            self.model.promote()

    @rule(change=st.integers(-3, 3).filter(bool))
    def capacity(self, change):
        session = self.session
        wanted = self.model.capacity + change
        if wanted < 1:
            return
        details = scheduling.SessionDetails(
            venue_name=session.venue_name,
            venue_address=session.venue_address,
            host_organisation=session.host_organisation,
            capacity=wanted,
            languages=session.languages,
            interpreting=session.interpreting,
            note=session.note,
        )
        model = self.model
        reserved = sum(model.free_kept(p) for p in range(len(model.kept)))
        if wanted < len(model.holding()) + reserved:
            with pytest.raises(RecurrenceError):
                scheduling.update_session_details(session, details, now=self._tick())
            db.session.rollback()
            return
        scheduling.update_session_details(session, details, now=self._tick())
        db.session.commit()
        model.capacity = wanted
        model.promote()

    @rule()
    def switch_approval(self):
        self.session.format.approval_required = not self.model.approval
        db.session.commit()
        self.model.approval = not self.model.approval

    # -- What must hold after every step -------------------------------------------------

    @invariant()
    def app_agrees_with_the_model(self):
        if not hasattr(self, "model"):
            return
        db.session.expire_all()
        stored = {
            r.id: r
            for r in db.session.execute(
                select(Registration).where(Registration.session_id == self.session_id)
            ).scalars()
        }
        kept_ids = {
            c.id: c.organisation_id
            for c in db.session.execute(
                select(Contingent).where(Contingent.session_id == self.session_id)
            ).scalars()
        }
        partner_ids = [p.id for p in self.partners]
        for entry in self.model.entries:
            registration = stored[entry.id]
            assert registration.status == entry.status, entry
            held_for = kept_ids.get(registration.contingent_id)
            expected = None if entry.kept_seat_of is None else partner_ids[entry.kept_seat_of]
            if entry.status in HOLDING:
                assert held_for == expected, entry
        waiting = [r.id for r in rules.waitlist(self.session)]
        assert waiting == [e.id for e in self.model.waitlist()]

    @invariant()
    def seats_are_never_overbooked_and_kept_seats_stay_with_their_partner(self):
        if not hasattr(self, "model"):
            return
        holding = db.session.execute(
            select(Registration).where(
                Registration.session_id == self.session_id,
                Registration.status.in_([RegistrationStatus.CONFIRMED, RegistrationStatus.PENDING]),
            )
        ).scalars()
        held = 0
        for registration in holding:
            held += 1
            if registration.contingent is not None:
                user = registration.user
                assert user is not None and user.is_partner
                assert user.organisation_id == registration.contingent.organisation_id
        assert held <= db.session.get(type(self.session), self.session_id).capacity


def test_seat_rules_follow_the_model(any_app):
    SeatRules.app = any_app
    run_state_machine_as_test(
        SeatRules,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
