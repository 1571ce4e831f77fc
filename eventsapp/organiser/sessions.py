"""One session: its page, changing its time and details, calling it off, skipping a draft."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from eventsapp.access import managed_session_or_404
from eventsapp.database import db, utcnow
from eventsapp.forms import ActionForm
from eventsapp.models import ACTIVE, RegistrationStatus, SessionStatus
from eventsapp.organiser import bp
from eventsapp.organiser.common import (
    add_error,
    fill_translations,
    organisation_or_400,
    render_session,
)
from eventsapp.organiser.forms import (
    SESSION_TEXT_FIELDS,
    TRANSLATED_LANGUAGES,
    CancelSessionForm,
    SessionForm,
    SessionTranslationsForm,
)
from eventsapp.services import overview, participants, scheduling
from eventsapp.services.recurrence import RecurrenceError


@bp.get("/sessions/<int:session_id>")
def session_detail(session_id: int):
    return render_session(managed_session_or_404(session_id))


def _details(form: SessionForm) -> scheduling.SessionDetails:
    return scheduling.SessionDetails(
        venue_name=form.venue_name.data,
        venue_address=form.venue_address.data or "",
        host_organisation=organisation_or_400(form.host_organisation.data),
        capacity=form.capacity.data,
        languages=",".join(form.languages.data or []),
        interpreting=form.interpreting.data or "",
        note=form.note.data or "",
        practical=form.practical_overrides(),
    )


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
def session_edit(session_id: int):
    session = managed_session_or_404(session_id)
    form = SessionForm(obj=session, host_choices=overview.session_host_choices(current_user))
    if request.method == "GET":
        form.start_date.data = session.local_start.date()
        form.start_time.data = session.local_start.time()
        form.end_time.data = session.local_end.time()
        form.host_organisation.data = session.host_organisation_id
        form.languages.data = session.language_codes
        form.show_overrides(session)
    if form.validate_on_submit():
        now = utcnow()
        try:
            scheduling.change_session_times(
                session,
                day=form.start_date.data,
                start=form.start_time.data,
                end=form.end_time.data,
                now=now,
                following=form.scope.data == "following",
            )
            scheduling.update_session_details(session, _details(form), now=now)
        except RecurrenceError as error:
            db.session.rollback()
            add_error(form, error, default_field="start_time")
        else:
            db.session.commit()
            flash(_("Änderungen gespeichert."), "success")
            for other in scheduling.clashes(session):
                flash(
                    _(
                        "Achtung: Zur selben Zeit ist am selben Ort „%(title)s“ geplant.",
                        title=other.format.title,
                    ),
                    "warning",
                )
            return redirect(url_for("organiser.session_detail", session_id=session.id), 303)
    return render_template("organiser/session_edit.html", session=session, form=form), (
        422 if form.errors else 200
    )


def _confirm_cancel(session, form: CancelSessionForm):
    """The first step of calling a session off: the reason as it will be mailed, who gets
    the mail, and "Ja" / "Nein, zurück"."""
    if session.status != SessionStatus.PUBLISHED:  # its page has no form to show this at
        flash(_("Nur veröffentlichte Termine können abgesagt werden."), "error")
        return redirect(url_for("organiser.session_detail", session_id=session.id), 303)
    told = [r for r in participants.list_registrations(session) if r.status in ACTIVE]
    return render_template(
        "organiser/confirm_session_cancel.html",
        session=session,
        reason=form.reason.data,
        told=len(told),
        waiting=sum(1 for r in told if r.status == RegistrationStatus.WAITLISTED),
        action=url_for("organiser.session_cancel", session_id=session.id),
        yes_label=_("Ja, Termin absagen"),
        back_url=url_for(
            "organiser.session_detail", session_id=session.id, _anchor="cancel-heading"
        ),
        hidden={
            "reason": form.reason.data,
            **{f"reason_{language}": text for language, text in form.reasons().items()},
        },
        reasons=form.reasons(),
        form=form,
    )


@bp.post("/sessions/<int:session_id>/cancel")
def session_cancel(session_id: int):
    session = managed_session_or_404(session_id)
    form = CancelSessionForm()
    if not form.validate_on_submit():
        return render_session(session, cancel_form=form, status=422)
    if request.form.get("confirmed") != "1":
        return _confirm_cancel(session, form)
    try:
        scheduling.cancel_session(
            session, reason=form.reason.data, reasons=form.reasons(), now=utcnow()
        )
    except RecurrenceError as error:
        db.session.rollback()
        add_error(form, error, default_field="reason")
        return render_session(session, cancel_form=form, status=409)
    db.session.commit()
    flash(_("Der Termin ist abgesagt. Alle Angemeldeten bekommen eine E-Mail."), "success")
    return redirect(url_for("organiser.session_detail", session_id=session.id), 303)


@bp.route("/sessions/<int:session_id>/translations", methods=["GET", "POST"])
def session_translations(session_id: int):
    """The date's own texts (interpreting, note, reason for calling off, practical details)
    in the other languages; German stays the fallback."""
    session = managed_session_or_404(session_id)
    fields = [field for field in SESSION_TEXT_FIELDS if session.german(field)]
    form = SessionTranslationsForm()
    fill_translations(form, session.translations)
    if form.validate_on_submit():
        session.translations = form.translations(fields)
        session.updated_at = utcnow()
        db.session.commit()
        flash(_("Übersetzungen gespeichert."), "success")
        return redirect(url_for("organiser.session_detail", session_id=session.id), 303)
    return render_template(
        "organiser/session_translations.html",
        session=session,
        form=form,
        fields=fields,
        languages=TRANSLATED_LANGUAGES,
    ), (422 if form.errors else 200)


@bp.post("/sessions/<int:session_id>/skip")
def session_skip(session_id: int):
    session = managed_session_or_404(session_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    format_id = session.format_id
    back_url = url_for("organiser.format_detail", format_id=format_id)
    if request.form.get("confirmed") != "1":
        if session.status != SessionStatus.DRAFT:
            flash(
                _(
                    "Nur Entwürfe können übersprungen werden; "
                    "veröffentlichte Termine bitte absagen."
                ),
                "error",
            )
            return redirect(back_url, 303)
        return render_template(
            "organiser/confirm_skip.html",
            session=session,
            action=url_for("organiser.session_skip", session_id=session.id),
            yes_label=_("Ja, überspringen"),
            back_url=back_url,
            form=form,
        )
    try:
        scheduling.skip_draft(session)
    except RecurrenceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Der Entwurf ist entfernt und wird nicht wieder angelegt."), "success")
    return redirect(url_for("organiser.format_detail", format_id=format_id), 303)
