"""Response headers that keep the pages self-contained and token links private."""

from __future__ import annotations

from flask import Flask, Response, abort, request


def content_security_policy(frame_ancestors: str = "'none'") -> str:
    """The policy of every page. img-src data: lets the reports show their charts: SVG that
    the server drew (pygal), as data: images, which cannot run script or load anything.
    Only the embeddable dates widget (eventsapp/embed) names other `frame_ancestors`."""
    return (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}; form-action 'self'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    # Manage and feed links carry a secret in the path: never leak it to another site.
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)


def _behind_secret_link() -> bool:
    return bool(request.view_args) and "token" in request.view_args


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values if isinstance(value, str))


def register(app: Flask) -> None:
    @app.before_request
    def refuse_nul_bytes() -> None:
        """No address or query may contain NUL (PostgreSQL cannot store it, nobody types
        it): a clear 400 instead of a database error deeper down. Form fields refuse control
        characters themselves, with a message next to the field."""
        if "\x00" in request.path or _has_nul(request.args.values()):
            abort(400)

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        if response.status_code == 304:
            return response  # the client keeps the headers of the response it revalidates
        present = {name.lower() for name in response.headers.keys()}  # noqa: SIM118 - Headers yields pairs
        if request.is_secure and app.config["HSTS_SECONDS"]:
            response.headers.setdefault(
                "Strict-Transport-Security",
                f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains",
            )
        if "content-security-policy" in present:
            # A view that sets its own policy (the embeddable widget) decides about framing
            # with frame-ancestors; the older header would refuse every frame.
            present.add("x-frame-options")
        response.headers.extend(
            (name, value) for name, value in SECURITY_HEADERS if name.lower() not in present
        )
        if _behind_secret_link() and not request.path.endswith(".ics"):
            # Manage, data, calendar, subscription and password pages: never kept by a
            # browser's history cache or a proxy. Calendar feeds keep their own policy.
            response.headers["Cache-Control"] = "no-store"
        return response
