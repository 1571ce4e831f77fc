from flask import Blueprint

bp = Blueprint("public", __name__)

from eventsapp.public import feedback, legal, manage, routes  # noqa: E402, F401 - registers the routes
