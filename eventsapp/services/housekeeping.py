"""Scheduled work: reminders, contingent releases, feedback rounds, forgetting what is no
longer needed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from eventsapp.database import db
from eventsapp.mail.outbox import queue_about
from eventsapp.models import (
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
)
from eventsapp.services import (
    access_links,
    contingents,
    feedback,
    partner_registrations,
    personal_data,
    subscriptions,
)
from eventsapp.services import sessions as listing

LONGEST_REMINDER = timedelta(days=14)


@dataclass
class JobReport:
    reminders: int = 0
    release_notices: int = 0
    promoted: int = 0
    unconfirmed_deleted: int = 0
    bodies_purged: int = 0
    anonymised: int = 0
    links_expired: int = 0
    feedback_invitations: int = 0
    feedback_reminders: int = 0
    feedback_links_closed: int = 0
    feedback_texts_deleted: int = 0

    def __str__(self) -> str:
        return (
            f"jobs: {self.reminders} reminders queued, "
            f"{self.release_notices} partners told of seats about to be released, "
            "contingents released "
            f"({self.promoted} people moved up from waitlists), "
            f"{self.unconfirmed_deleted} unconfirmed subscriptions deleted, "
            f"{self.bodies_purged} old mails emptied, "
            f"{self.anonymised} registrations anonymised, "
            f"{self.links_expired} expired links deleted, "
            f"{self.feedback_invitations} feedback invitations and "
            f"{self.feedback_reminders} reminders queued, "
            f"{self.feedback_links_closed} feedback links closed, "
            f"{self.feedback_texts_deleted} unreleased feedback texts deleted"
        )


def queue_reminders(*, now: datetime) -> int:
    """Queue each due reminder once (the outbox dedupe key makes a second run a no-op).

    A reminder is due from its offset before the start until the next shorter offset, so a
    job that was down does not send the two-day reminder three hours before the start.
    """
    registrations = (
        db.session.execute(
            select(Registration)
            .join(Registration.session)
            .where(
                Registration.status == RegistrationStatus.CONFIRMED,
                Session.status == SessionStatus.PUBLISHED,
                Session.starts_at > now,
                Session.starts_at <= now + LONGEST_REMINDER,
            )
            .options(joinedload(Registration.session).joinedload(Session.format))
        )
        .scalars()
        .all()
    )
    queued = 0
    for registration in registrations:
        session = registration.session
        offsets = session.format.reminder_minutes  # longest first
        for index, minutes in enumerate(offsets):
            shorter = offsets[index + 1] if index + 1 < len(offsets) else 0
            if (
                session.starts_at - timedelta(minutes=minutes)
                <= now
                < (session.starts_at - timedelta(minutes=shorter))
            ) and _may_see(registration.email, session):
                # Once per offset and start time: a moved session is reminded of again.
                event = f"reminder:{minutes}:{session.starts_at:%Y%m%dT%H%M}"
                queue_about(registration, event, "registration_reminder", now)
                queued += 1
    return queued


def _may_see(email: str, session: Session) -> bool:
    """Reminders list a session, so they follow the one visibility rule like every list."""
    return session.id in listing.visible_ids(listing.audience_for_address(email), [session.id])


def forget_old_mail(*, now: datetime, retention_days: int) -> int:
    """Keep the record of a mail, not its address or text, after the retention period:
    counted from sending for sent mail, from queueing for mail that never went out."""
    cutoff = now - timedelta(days=retention_days)
    return personal_data.forget_mail(
        ((OutboxMessage.status == OutboxStatus.SENT) & (OutboxMessage.sent_at < cutoff))
        | ((OutboxMessage.status != OutboxStatus.SENT) & (OutboxMessage.created_at < cutoff)),
        now=now,
    )


def run_jobs(*, now: datetime, retention_days: int, registration_days: int) -> JobReport:
    """Everything housekeeping does, once. The caller commits."""
    return JobReport(
        reminders=queue_reminders(now=now),
        release_notices=partner_registrations.send_release_notices(now=now),
        promoted=contingents.release_due_contingents(now=now),
        unconfirmed_deleted=subscriptions.delete_unconfirmed(now=now),
        bodies_purged=forget_old_mail(now=now, retention_days=retention_days),
        links_expired=access_links.delete_expired(now=now),
        anonymised=personal_data.anonymise_past_registrations(
            now=now, retention_days=registration_days
        ),
        feedback_invitations=feedback.invite_due(now=now),
        feedback_reminders=feedback.remind_due(now=now),
        feedback_links_closed=feedback.close_rounds(now=now),
        feedback_texts_deleted=feedback.forget_texts(now=now, retention_days=registration_days),
    )
