"""Error pages: a readable page in the visitor's language, never a stack trace.

Under /api/ the answer is JSON (`{"error": "..."}`) with the same status, whatever went
wrong: a program that asked for JSON must not have to parse an HTML page to learn that a
path does not exist or that it was too fast. The API's messages are in English, like its
field names, so that clients can show or log them without depending on Accept-Language.
"""

from __future__ import annotations

import json

from flask import Flask, Response, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from eventsapp.database import db

API_PREFIX = "/api/"
API_MESSAGES = {
    400: "the request could not be understood",
    404: "there is nothing at this address",
    405: "this method is not allowed here; the API answers GET",
    429: "too many requests; please wait a moment and try again",
    500: "something went wrong on our side; please try again later",
}
FALLBACK_PAGE = (
    "<!doctype html><meta charset=utf-8><title>Fehler</title>"
    "<p>Etwas ist schiefgegangen. Bitte versuchen Sie es später noch einmal.</p>"
)


def json_error(message: str, status: int, headers: list[tuple[str, str]] | None = None) -> Response:
    """The API's error answer: `{"error": message}` as application/json."""
    return Response(
        json.dumps({"error": message}, ensure_ascii=False),
        status=status,
        headers=headers,
        mimetype="application/json",
    )


def _for_api() -> bool:
    return request.path.startswith(API_PREFIX)


def _page(template: str, status: int, headers: list[tuple[str, str]], **context) -> Response:
    """The error page, or a fixed one if rendering fails too: an error while showing an
    error must not end in the server's bare 500."""
    try:
        body = render_template(template, **context)
    except Exception:
        current_app.logger.exception("error page %s could not be rendered", template)
        db.session.rollback()
        body = FALLBACK_PAGE
    return Response(body, status=status, headers=headers, mimetype="text/html")


def _extra_headers(error: HTTPException) -> list[tuple[str, str]]:
    """What the exception adds besides its own HTML body (Allow on 405, Retry-After)."""
    return [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        if _for_api():
            return json_error("the form has expired; please load it again", 400)
        return _page("errors/csrf.html", 400, [])

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        headers = _extra_headers(error)
        if _for_api():
            message = API_MESSAGES.get(status) or (error.name or "error").lower()
            return json_error(message, status, headers)
        return _page("errors/http.html", status, headers, error=error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        app.logger.exception("unhandled error")
        db.session.rollback()
        if _for_api():
            return json_error(API_MESSAGES[500], 500)
        return _page("errors/http.html", 500, [], error=None)
