from flask import Blueprint

bp = Blueprint("feeds", __name__)

from eventsapp.feeds import routes  # noqa: E402, F401 - registers the routes
