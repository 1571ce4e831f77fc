"""The domain models, one module per aggregate."""

from eventsapp.models.access_link import AccessLink, AccessPurpose
from eventsapp.models.contingent import Contingent
from eventsapp.models.feedback import (
    FeedbackInvitation,
    FeedbackOptOut,
    FeedbackResponse,
    TextsState,
    TopicStatus,
)
from eventsapp.models.format import FeedbackAudience, Format, Visibility
from eventsapp.models.organisation import Organisation, OrganisationKind
from eventsapp.models.outbox import OutboxMessage, OutboxStatus
from eventsapp.models.personal_feed import PersonalFeed
from eventsapp.models.publication import Publication
from eventsapp.models.registration import (
    ACTIVE,
    SEAT_HOLDING,
    Registration,
    RegistrationStatus,
)
from eventsapp.models.session import Session, SessionStatus
from eventsapp.models.subscription import (
    Subscription,
    SubscriptionSource,
    SubscriptionStatus,
    format_announcement_partners,
)
from eventsapp.models.user import Role, User

__all__ = [
    "ACTIVE",
    "SEAT_HOLDING",
    "AccessLink",
    "AccessPurpose",
    "Contingent",
    "FeedbackAudience",
    "FeedbackInvitation",
    "FeedbackOptOut",
    "FeedbackResponse",
    "Format",
    "Organisation",
    "OrganisationKind",
    "OutboxMessage",
    "OutboxStatus",
    "PersonalFeed",
    "Publication",
    "Registration",
    "RegistrationStatus",
    "Role",
    "Session",
    "SessionStatus",
    "Subscription",
    "SubscriptionSource",
    "SubscriptionStatus",
    "TextsState",
    "TopicStatus",
    "User",
    "Visibility",
    "format_announcement_partners",
]
