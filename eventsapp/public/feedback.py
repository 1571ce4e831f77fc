"""The feedback form behind a mailed single-use link, and "no more feedback mail".

A link that was used, has closed or never existed gets the same page: nothing tells a
visitor whether someone answered. Pages behind these links are sent with
`Cache-Control: no-store` like every personal page (eventsapp/security.py).
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from eventsapp.database import db
from eventsapp.feedback_items import SESSION_ITEMS, TRUST_ITEMS
from eventsapp.forms import ActionForm
from eventsapp.i18n import prefer_language
from eventsapp.models import FeedbackInvitation
from eventsapp.public import bp
from eventsapp.public.forms import SessionFeedbackForm
from eventsapp.ratelimits import client_limit
from eventsapp.services import feedback


def _void():
    return render_template("public/feedback_void.html"), 404


def _invitation(token: str) -> FeedbackInvitation | None:
    invitation = feedback.invitation_for(token)
    if invitation is not None:
        prefer_language(invitation.registration.language)
    return invitation


@bp.route("/feedback/<token>", methods=["GET", "POST"])
@client_limit("SESSION_FEEDBACK")
def feedback_form(token: str):
    invitation = _invitation(token)
    if invitation is None:
        return _void()
    form = SessionFeedbackForm()
    if request.method == "POST" and form.validate_on_submit():
        answers = feedback.Answers(form.scores(), form.topics.data or "", form.other.data or "")
        if not feedback.answer(token, answers):
            db.session.rollback()
            return _void()
        db.session.commit()
        return redirect(url_for("public.feedback_thanks"), 303)
    return render_template(
        "public/feedback.html",
        form=form,
        session=invitation.session,
        trust_items=TRUST_ITEMS,
        session_items=SESSION_ITEMS,
        token=token,
        closes_at=invitation.session.feedback_invited_at + feedback.ROUND_LENGTH,
    ), (422 if form.errors else 200)


@bp.get("/feedback/thanks")
def feedback_thanks():
    return render_template("public/feedback_thanks.html")


@bp.route("/feedback/<token>/stop", methods=["GET", "POST"])
@client_limit("SESSION_FEEDBACK")
def feedback_stop(token: str):
    """GET asks, POST does: mail scanners that follow links change nothing."""
    invitation = _invitation(token)
    if invitation is None:
        return _void()
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        feedback.stop_feedback_mail(invitation.registration.email)
        db.session.commit()
        return render_template("public/feedback_stopped.html")
    return render_template("public/feedback_stop.html", form=form, token=token)
