"""Entry point for `flask --app wsgi` and gunicorn (`wsgi:app`)."""

from __future__ import annotations

import os

from eventsapp import create_app

app = create_app(os.environ.get("EVENTSAPP_CONFIG"))
