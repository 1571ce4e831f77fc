from flask import Blueprint

bp = Blueprint("public", __name__)

from eventsapp.public import routes  # noqa: E402, F401 - registers the routes
