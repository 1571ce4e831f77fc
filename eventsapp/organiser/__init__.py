"""The organisers' back office: formats, their dates, and who is coming.

One blueprint, its views in one module per area: dashboard (overview and calendar),
formats (formats and planning their dates), sessions, registrations (lists, manual add,
approval), checkin (the door, also offline), contingents, feedback (a session's answers
and their free texts) and reports. `common` holds what they share.
"""

from flask import Blueprint

from eventsapp.access import organiser_required

bp = Blueprint("organiser", __name__, url_prefix="/organiser")


@bp.before_request
@organiser_required
def require_organiser() -> None:
    """Every view of this blueprint is for organisers and admins only."""


# Registers the routes.
from eventsapp.organiser import (  # noqa: E402, F401
    checkin,
    contingents,
    dashboard,
    feedback,
    formats,
    registrations,
    reports,
    sessions,
)
