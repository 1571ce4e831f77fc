from flask import Blueprint

bp = Blueprint("organiser", __name__, url_prefix="/organiser")

from eventsapp.organiser import routes  # noqa: E402, F401 - registers the routes
