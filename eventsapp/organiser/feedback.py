"""A session's feedback: how many answered, releasing or hiding the free texts, and what
became of a released topic suggestion."""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask_babel import gettext as _

from eventsapp.access import managed_session_or_404
from eventsapp.acknowledgements import acknowledge, back_to
from eventsapp.database import db, utcnow
from eventsapp.models import FeedbackResponse, Session, TextsState, TopicStatus
from eventsapp.organiser import bp
from eventsapp.organiser.forms import TextsDecisionForm, TopicStatusForm
from eventsapp.services import feedback


def _form(response_id: str) -> TextsDecisionForm:
    return TextsDecisionForm(prefix=f"t{response_id[:12]}")


def _topic_form(response: FeedbackResponse) -> TopicStatusForm:
    form = TopicStatusForm(prefix=f"s{response.id[:12]}")
    if not form.is_submitted():
        form.status.data = response.topic_status.value
        form.taken_up_on.data = response.topic_taken_up_on
        form.note.data = response.topic_note
    return form


def _has_topic(response: FeedbackResponse) -> bool:
    return response.texts_state == TextsState.RELEASED and bool(response.topics)


def _render(session: Session, failed=None, failed_id: str = ""):
    """The page; `failed` is the form (of response `failed_id`) that did not validate."""
    texts = feedback.texts_of(session)

    def failed_one(response: FeedbackResponse, kind: type) -> bool:
        return response.id == failed_id and isinstance(failed, kind)

    forms = {r.id: failed if failed_one(r, TextsDecisionForm) else _form(r.id) for r in texts}
    topic_forms = {
        r.id: failed if failed_one(r, TopicStatusForm) else _topic_form(r)
        for r in texts
        if _has_topic(r)
    }
    return render_template(
        "organiser/session_feedback.html",
        session=session,
        responses=feedback.response_count(session),
        threshold=feedback.THRESHOLD,
        texts=texts,
        forms=forms,
        topic_forms=topic_forms,
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


@bp.post("/sessions/<int:session_id>/feedback/<response_id>/topic")
def feedback_topic(session_id: int, response_id: str):
    session = managed_session_or_404(session_id)
    response = feedback.response_of(session, response_id)
    if response is None or not _has_topic(response):
        abort(404)
    form = _topic_form(response)
    if not form.validate_on_submit():
        return _render(session, form, response.id)
    feedback.set_topic_status(
        response,
        TopicStatus(form.status.data),
        taken_up_on=form.taken_up_on.data,
        note=form.note.data or "",
    )
    db.session.commit()
    near = f"text-{response.id[:12]}"
    acknowledge(_("Gespeichert: Was aus dem Thema wurde."), near)
    return back_to(url_for("organiser.session_feedback", session_id=session.id), near)
