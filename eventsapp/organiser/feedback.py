"""A session's feedback: how many answered, and releasing or hiding the free texts."""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask_babel import gettext as _

from eventsapp.access import managed_session_or_404
from eventsapp.acknowledgements import acknowledge, back_to
from eventsapp.database import db, utcnow
from eventsapp.models import Session, TextsState
from eventsapp.organiser import bp
from eventsapp.organiser.forms import TextsDecisionForm
from eventsapp.services import feedback


def _form(response_id: str) -> TextsDecisionForm:
    return TextsDecisionForm(prefix=f"t{response_id[:12]}")


def _render(session: Session, failed: TextsDecisionForm | None = None, failed_id: str = ""):
    texts = feedback.texts_of(session)
    forms = {r.id: failed if r.id == failed_id else _form(r.id) for r in texts}
    return render_template(
        "organiser/session_feedback.html",
        session=session,
        responses=feedback.response_count(session),
        threshold=feedback.THRESHOLD,
        texts=texts,
        forms=forms,
    ), (422 if failed is not None else 200)


@bp.get("/sessions/<int:session_id>/feedback")
def session_feedback(session_id: int):
    return _render(managed_session_or_404(session_id))


@bp.post("/sessions/<int:session_id>/feedback/<response_id>")
def feedback_texts(session_id: int, response_id: str):
    session = managed_session_or_404(session_id)
    response = feedback.response_of(session, response_id)
    # Only texts the page shows can be decided on: none before THRESHOLD responses.
    if (
        response is None
        or not (response.topics or response.other)
        or feedback.response_count(session) < feedback.THRESHOLD
    ):
        abort(404)
    form = _form(response.id)
    if not form.validate_on_submit():
        return _render(session, form, response.id)
    state = TextsState(form.decision.data)
    feedback.decide_texts(response, state, form.reason.data or "", now=utcnow())
    db.session.commit()
    near = f"text-{response.id[:12]}"
    acknowledge(
        _("Gespeichert: Der Text wird gezeigt.")
        if state == TextsState.RELEASED
        else _("Gespeichert: Der Text wird nicht gezeigt."),
        near,
    )
    return back_to(url_for("organiser.session_feedback", session_id=session.id), near)
