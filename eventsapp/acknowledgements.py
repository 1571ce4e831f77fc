"""Telling a person that what they sent has worked, next to the form they sent.

A page with several forms (a session's page, the account page, the organiser's session
page) answers a form by coming back to itself. The message is shown in the form's section,
not at the top of the page, and the address ends in that section's `#<near>-done`, so the
browser scrolls to it. The message box takes the focus when the page loads (`autofocus`,
no script needed), so a screen reader reads it out first.
"""

from __future__ import annotations

from flask import flash, redirect
from werkzeug.wrappers import Response


def acknowledge(message: str, near: str, category: str = "success") -> None:
    """Show `message` in the section whose acknowledgements are rendered with
    `acknowledgements(near)` (templates/_macros.html) on the next page."""
    flash(message, f"{category} {near}")


def back_to(url: str, near: str) -> Response:
    """Redirect to the page with the section `near`, scrolled to its message."""
    return redirect(f"{url}#{near}-done", 303)
