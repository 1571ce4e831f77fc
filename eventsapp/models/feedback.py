"""Anonymous feedback after a session.

Three tables that never point at each other:
- `FeedbackInvitation`: who may still answer. A row exists while its link is open and is
  deleted when the link is used, when the person asks for no more feedback mail, or when
  the round closes; nothing is kept of when or whether it was used.
- `FeedbackResponse`: what was answered, for a session, by nobody in particular. Its key is
  random, it holds no time of day (only the day the session's round opened, the same for
  all of its responses), and it is stored in the order of that key (on SQLite a table
  without rowid), so neither a column nor the order of rows tells who answered when.
- `FeedbackOptOut`: addresses that want no feedback mail, as keyed hashes.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventsapp.database import UTCDateTime, db, utcnow
from eventsapp.models.registration import Registration
from eventsapp.models.session import Session


class TextsState(enum.StrEnum):
    """Whether a response's free texts may be shown: organisers of the host decide."""

    NEW = "new"
    RELEASED = "released"
    HIDDEN = "hidden"


class TopicStatus(enum.StrEnum):
    """What became of a released topic suggestion: the "you said, we did" list."""

    OPEN = "open"
    TAKEN_UP = "taken_up"  # on the day in topic_taken_up_on
    NOT_NOW = "not_now"  # for the reason in topic_note


def _random_key() -> str:
    return secrets.token_hex(16)


class FeedbackInvitation(db.Model):
    """An open feedback link of one registration (see the module's docstring)."""

    __tablename__ = "feedback_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    # The link's token is derived from the nonce (eventsapp/tokens.py); only its hash is
    # looked up.
    token_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[Session] = relationship()
    registration: Mapped[Registration] = relationship()


class FeedbackResponse(db.Model):
    """One person's answers about one session; nothing in it names the person."""

    __tablename__ = "feedback_responses"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_key)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    # The day the session's feedback round opened (not the day of the answer).
    round_on: Mapped[date] = mapped_column(Date)
    # Each item (eventsapp/feedback_items.py): 1–4 on its scale, 0 "don't know", None
    # when left out.
    respect: Mapped[int | None] = mapped_column(SmallInteger)
    fair: Mapped[int | None] = mapped_column(SmallInteger)
    explain: Mapped[int | None] = mapped_column(SmallInteger)
    learned: Mapped[int | None] = mapped_column(SmallInteger)
    recommend: Mapped[int | None] = mapped_column(SmallInteger)
    topics: Mapped[str] = mapped_column(Text, default="")  # "what should we talk about next?"
    other: Mapped[str] = mapped_column(Text, default="")  # "anything else?"
    texts_state: Mapped[TextsState] = mapped_column(
        Enum(
            TextsState,
            native_enum=False,
            length=20,
            values_callable=lambda states: [s.value for s in states],
        ),
        default=TextsState.NEW,
    )
    texts_reason: Mapped[str] = mapped_column(Text, default="")  # why released or hidden
    texts_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the organisers did with the suggested topics, shown with released texts.
    topic_status: Mapped[TopicStatus] = mapped_column(
        Enum(
            TopicStatus,
            native_enum=False,
            length=20,
            values_callable=lambda states: [s.value for s in states],
        ),
        default=TopicStatus.OPEN,
    )
    topic_taken_up_on: Mapped[date | None] = mapped_column(Date)
    topic_note: Mapped[str] = mapped_column(Text, default="")  # "not now, because …"

    session: Mapped[Session] = relationship()


class FeedbackOptOut(db.Model):
    """An address that wants no feedback mail, as eventsapp.tokens.address_key gives it."""

    __tablename__ = "feedback_opt_outs"
    __table_args__ = ({"sqlite_with_rowid": False},)

    address_key: Mapped[str] = mapped_column(String(64), primary_key=True)
