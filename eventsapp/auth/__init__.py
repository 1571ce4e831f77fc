from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from eventsapp.auth import routes  # noqa: E402, F401 - registers the routes
