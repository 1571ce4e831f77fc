"""The feedback round after a session: invitations, one reminder, answers, and "no more".

Some hours after a session ends (the format's `feedback_delay_hours`), each person the
format asks (`feedback_audience`) gets one mail in their language with a single-use link.
Three days later those whose link is still open get one reminder; two weeks after the
invitations the round closes and the open links are deleted. Answering spends the link by
deleting its row, and writes a response that names no one (eventsapp/models/feedback.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import joinedload

from eventsapp.database import db
from eventsapp.feedback_items import DONT_KNOW, ITEMS, STEPS
from eventsapp.mail.outbox import enqueue_mail
from eventsapp.models import (
    FeedbackAudience,
    FeedbackInvitation,
    FeedbackOptOut,
    FeedbackResponse,
    Format,
    Registration,
    RegistrationStatus,
    Session,
    SessionStatus,
    TextsState,
    TopicStatus,
)
from eventsapp.tokens import address_key, feedback_token, hash_token, new_nonce
from eventsapp.urls import external_url

REMINDER_AFTER = timedelta(days=3)
ROUND_LENGTH = timedelta(days=14)  # how long a link answers after the invitation
# Sessions that ended longer ago than this get no invitations (a format switched on late,
# a job that was down for a month): feedback about a date long past says little.
LATEST_START = timedelta(days=7)
TEXT_LIMIT = 2000


# --- who wants no feedback mail ------------------------------------------------------------


def wants_feedback_mail(email: str) -> bool:
    return db.session.get(FeedbackOptOut, address_key(email)) is None


def without_feedback_mail(emails: list[str]) -> set[str]:
    """Those of `emails` that want no feedback mail, in one query."""
    keys = {address_key(email): email for email in emails}
    found = db.session.scalars(
        select(FeedbackOptOut.address_key).where(FeedbackOptOut.address_key.in_(keys))
    )
    return {keys[key] for key in found}


def stop_feedback_mail(email: str) -> None:
    """No feedback mail to this address any more; its open links close."""
    if wants_feedback_mail(email):
        db.session.add(FeedbackOptOut(address_key=address_key(email)))
    db.session.execute(
        delete(FeedbackInvitation).where(
            FeedbackInvitation.registration_id.in_(
                select(Registration.id).where(Registration.email == email)
            )
        )
    )
    db.session.flush()


def allow_feedback_mail(email: str) -> None:
    key = address_key(email)
    db.session.execute(delete(FeedbackOptOut).where(FeedbackOptOut.address_key == key))


# --- the round -----------------------------------------------------------------------------


def _recipients(session: Session) -> list[Registration]:
    confirmed = list(
        db.session.execute(
            select(Registration).where(
                Registration.session_id == session.id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.anonymised_at.is_(None),
            )
        ).scalars()
    )
    if session.format.feedback_audience == FeedbackAudience.ATTENDED and any(
        registration.attended is not None for registration in confirmed
    ):
        # Check-in was used for this date: those who came.
        confirmed = [registration for registration in confirmed if registration.attended]
    confirmed = [registration for registration in confirmed if registration.has_address]
    unwilling = without_feedback_mail([registration.email for registration in confirmed])
    return [registration for registration in confirmed if registration.email not in unwilling]


def _queue(invitation: FeedbackInvitation, kind: str, now: datetime) -> None:
    registration = invitation.registration
    session = invitation.session
    token = feedback_token(invitation.token_nonce)
    enqueue_mail(
        dedupe_key=f"feedback:{registration.id}:{kind}",
        recipient=registration.email,
        language=registration.language,
        template=f"feedback_{kind}",
        subject=_SUBJECTS[kind],
        context={
            "registration": registration,
            "session": session,
            "language": registration.language,
            "feedback_url": external_url(
                "public.feedback_form", token=token, lang=registration.language
            ),
            "stop_url": external_url(
                "public.feedback_stop", token=token, lang=registration.language
            ),
            "closes_at": session.feedback_invited_at + ROUND_LENGTH,
        },
        now=now,
    )


_SUBJECTS = {
    "invitation": _l("Wie war der Termin? Ihre Meinung, anonym"),
    "reminder": _l("Erinnerung: Wie war der Termin?"),
}


def invite_due(*, now: datetime) -> int:
    """Open the round of every session whose feedback time has come: one invitation per
    person the format asks. A session's round opens once."""
    sessions = db.session.execute(
        select(Session)
        .join(Session.format)
        .where(
            Session.status == SessionStatus.PUBLISHED,
            Session.feedback_invited_at.is_(None),
            Session.ends_at <= now,
            Session.ends_at > now - LATEST_START,
            Format.feedback_audience != FeedbackAudience.NOBODY,
        )
        .options(joinedload(Session.format))
    ).scalars()
    invited = 0
    for session in sessions:
        if session.ends_at + timedelta(hours=session.format.feedback_delay_hours) > now:
            continue
        session.feedback_invited_at = now
        for registration in _recipients(session):
            nonce = new_nonce()
            invitation = FeedbackInvitation(
                session=session,
                registration=registration,
                token_nonce=nonce,
                token_hash=hash_token(feedback_token(nonce)),
                created_at=now,
            )
            db.session.add(invitation)
            _queue(invitation, "invitation", now)
            invited += 1
    db.session.flush()
    return invited


def remind_due(*, now: datetime) -> int:
    """One reminder to everyone whose link is still open three days after the invitation."""
    sessions = db.session.execute(
        select(Session).where(
            Session.feedback_invited_at <= now - REMINDER_AFTER,
            Session.feedback_invited_at > now - ROUND_LENGTH,
            Session.feedback_reminded_at.is_(None),
        )
    ).scalars()
    reminded = 0
    for session in sessions:
        session.feedback_reminded_at = now
        invitations = (
            db.session.execute(
                select(FeedbackInvitation)
                .where(FeedbackInvitation.session_id == session.id)
                .options(joinedload(FeedbackInvitation.registration))
            )
            .scalars()
            .all()
        )
        unwilling = without_feedback_mail([i.registration.email for i in invitations])
        for invitation in invitations:
            if invitation.registration.email not in unwilling:
                _queue(invitation, "reminder", now)
                reminded += 1
    db.session.flush()
    return reminded


def close_rounds(*, now: datetime) -> int:
    """Delete the links of rounds that have ended: they answer nothing any more."""
    ended = select(Session.id).where(Session.feedback_invited_at <= now - ROUND_LENGTH)
    result = db.session.execute(
        delete(FeedbackInvitation)
        .where(FeedbackInvitation.session_id.in_(ended))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --- answering -----------------------------------------------------------------------------


def invitation_for(token: str) -> FeedbackInvitation | None:
    """The open invitation behind a link, or None (used, closed, or never issued: the
    same answer for all three)."""
    if not token or len(token) > 100:
        return None
    return db.session.execute(
        select(FeedbackInvitation)
        .where(FeedbackInvitation.token_hash == hash_token(token))
        .options(joinedload(FeedbackInvitation.session).joinedload(Session.format))
    ).scalar_one_or_none()


@dataclass
class Answers:
    scores: dict[str, int | None]  # item key -> 1–4, DONT_KNOW, or None when left out
    topics: str = ""
    other: str = ""


ANSWER_VALUES = frozenset((*STEPS, DONT_KNOW))


def answer(token: str, answers: Answers) -> bool:
    """Spend the link and record the answers, or do nothing and return False when the link
    is not open (used meanwhile, perhaps in another tab). Deleting the invitation is what
    spends it: of two answers sent at once, only one deletes the row."""
    scores = {item.key: answers.scores.get(item.key) for item in ITEMS}
    if any(value is not None and value not in ANSWER_VALUES for value in scores.values()):
        raise ValueError("an answer outside the scale")  # the form refuses these first
    invitation = invitation_for(token)
    if invitation is None:
        return False
    session = invitation.session
    spent = db.session.execute(
        delete(FeedbackInvitation)
        .where(FeedbackInvitation.id == invitation.id)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return False
    db.session.expunge(invitation)
    db.session.add(
        FeedbackResponse(
            session_id=session.id,
            round_on=session.feedback_invited_at.astimezone(session.tz).date(),
            topics=answers.topics.strip()[:TEXT_LIMIT],
            other=answers.other.strip()[:TEXT_LIMIT],
            **scores,
        )
    )
    db.session.flush()
    return True


def has_open_invitation(registration: Registration) -> bool:
    return db.session.execute(
        select(exists().where(FeedbackInvitation.registration_id == registration.id))
    ).scalar_one()


def forget_texts(*, now: datetime, retention_days: int) -> int:
    """Free texts go with a session's other personal data after the retention period,
    unless an organiser released them; the scores stay for the reports."""
    ended = select(Session.id).where(Session.ends_at < now - timedelta(days=retention_days))
    result = db.session.execute(
        update(FeedbackResponse)
        .where(
            FeedbackResponse.session_id.in_(ended),
            FeedbackResponse.texts_state != TextsState.RELEASED,
            (FeedbackResponse.topics != "") | (FeedbackResponse.other != ""),
        )
        .values(topics="", other="")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --- what organisers see -------------------------------------------------------------------

# Figures from fewer answers than this are shown as "fewer than 5", and free texts are shown
# to no one until a session has this many responses: with three answers, who wrote what is
# easy to guess.
THRESHOLD = 5


def response_count(session: Session) -> int:
    return db.session.scalar(select(func.count()).where(FeedbackResponse.session_id == session.id))


def texts_of(session: Session) -> list[FeedbackResponse]:
    """The responses of a session that hold a free text, once it has THRESHOLD responses
    (else none), in the order of their random keys."""
    if response_count(session) < THRESHOLD:
        return []
    return list(
        db.session.scalars(
            select(FeedbackResponse)
            .where(
                FeedbackResponse.session_id == session.id,
                (FeedbackResponse.topics != "") | (FeedbackResponse.other != ""),
            )
            .order_by(FeedbackResponse.id)
        )
    )


def response_of(session: Session, response_id: str) -> FeedbackResponse | None:
    response = db.session.get(FeedbackResponse, response_id[:32])
    return response if response is not None and response.session_id == session.id else None


def decide_texts(
    response: FeedbackResponse, state: TextsState, reason: str, *, now: datetime
) -> None:
    """Release a response's free texts for reports and partners, or hide them; the reason
    is kept with the decision."""
    response.texts_state = state
    response.texts_reason = reason
    response.texts_decided_at = now


def set_topic_status(
    response: FeedbackResponse, status: TopicStatus, *, taken_up_on: date | None, note: str
) -> None:
    """Record what became of a released topic suggestion: taken up on a day, not now for a
    reason, or open again."""
    response.topic_status = status
    response.topic_taken_up_on = taken_up_on if status == TopicStatus.TAKEN_UP else None
    response.topic_note = note if status == TopicStatus.NOT_NOW else ""


def released_topics(session_ids: list[int]) -> list[FeedbackResponse]:
    """The released topic suggestions of these sessions, by session and then in the order
    of their random keys: the "you said, we did" list."""
    if not session_ids:
        return []
    return list(
        db.session.scalars(
            select(FeedbackResponse)
            .where(
                FeedbackResponse.session_id.in_(session_ids),
                FeedbackResponse.texts_state == TextsState.RELEASED,
                FeedbackResponse.topics != "",
            )
            .order_by(FeedbackResponse.session_id, FeedbackResponse.id)
        )
    )
