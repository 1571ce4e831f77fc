from flask import Blueprint

bp = Blueprint("embed", __name__, url_prefix="/embed")

from eventsapp.embed import routes  # noqa: E402, F401 - registers the routes
