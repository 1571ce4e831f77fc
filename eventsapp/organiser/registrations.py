"""Who is coming: manual add, approval and the waitlist, check-in at the door, the CSV list."""

from __future__ import annotations

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _

from eventsapp.access import managed_registration_or_404, managed_session_or_404
from eventsapp.acknowledgements import acknowledge, back_to
from eventsapp.database import db, utcnow
from eventsapp.formatting import status_label
from eventsapp.forms import ActionForm
from eventsapp.models import ACTIVE
from eventsapp.organiser import bp
from eventsapp.organiser.common import render_session
from eventsapp.organiser.forms import ManualRegistrationForm
from eventsapp.services import participants
from eventsapp.services import registrations as rules


@bp.post("/sessions/<int:session_id>/registrations")
def registration_add(session_id: int):
    session = managed_session_or_404(session_id)
    form = ManualRegistrationForm(languages=current_app.config["EVENTSAPP_LANGUAGES"])
    if not form.validate_on_submit():
        return render_session(session, manual_form=form, status=422)
    applicant = rules.Applicant(
        name=form.name.data,
        email=form.email.data,
        organisation_name=form.organisation.data or "",
        language=form.language.data,
    )
    try:
        registration = rules.register_for_session(
            session, applicant, now=utcnow(), by_organiser=True
        )
    except rules.AlreadyRegistered:
        db.session.rollback()
        form.email.errors = [_("Diese E-Mail-Adresse ist für diesen Termin schon angemeldet.")]
        return render_session(session, manual_form=form, status=409)
    except rules.RegistrationClosed:
        db.session.rollback()
        form.email.errors = [_("Für diesen Termin sind keine Anmeldungen mehr möglich.")]
        return render_session(session, manual_form=form, status=409)
    db.session.commit()
    acknowledge(
        _(
            "%(name)s ist eingetragen (%(status)s).",
            name=registration.name,
            status=status_label(registration.status),
        ),
        "add",
    )
    return back_to(url_for("organiser.session_detail", session_id=session.id), "add")


def _registration_action(registration_id: int, action, done_message: str):
    registration = managed_registration_or_404(registration_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    # The answer stands where the button was: at the person's row on the check-in list,
    # above the list of registrations on the session's page.
    checkin = request.form.get("back") == "checkin"
    near = f"r{registration.id}" if checkin else "registrations"
    try:
        action(registration)
    except rules.RegistrationError:
        db.session.rollback()
        acknowledge(_("Das ist für diese Anmeldung nicht (mehr) möglich."), near, "error")
    else:
        db.session.commit()
        acknowledge(done_message, near)
    endpoint = "organiser.checkin" if checkin else "organiser.session_detail"
    return back_to(url_for(endpoint, session_id=registration.session_id), near)


@bp.post("/registrations/<int:registration_id>/approve")
def registration_approve(registration_id: int):
    return _registration_action(
        registration_id,
        lambda r: rules.approve_registration(r, now=utcnow()),
        _("Anmeldung bestätigt."),
    )


@bp.post("/registrations/<int:registration_id>/reject")
def registration_reject(registration_id: int):
    return _registration_action(
        registration_id,
        lambda r: rules.reject_registration(r, now=utcnow()),
        _("Anmeldung abgelehnt; der Platz ist wieder frei."),
    )


def _back_url(registration) -> str:
    """Where "Nein, zurück" leads: the page the button was on (the check-in list or the
    session page), at the person's row."""
    endpoint = "organiser.checkin" if request.form.get("back") == "checkin" else None
    return url_for(
        endpoint or "organiser.session_detail",
        session_id=registration.session_id,
        _anchor=f"r{registration.id}",
    )


def _confirm_cancel(registration_id: int):
    """The first step of cancelling: what will happen, and "Ja" / "Nein, zurück"."""
    registration = managed_registration_or_404(registration_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = registration.session
    if registration.status not in ACTIVE or utcnow() >= session.starts_at:
        checkin = request.form.get("back") == "checkin"
        near = f"r{registration.id}" if checkin else "registrations"
        acknowledge(_("Das ist für diese Anmeldung nicht (mehr) möglich."), near, "error")
        endpoint = "organiser.checkin" if checkin else "organiser.session_detail"
        return back_to(url_for(endpoint, session_id=registration.session_id), near)
    return render_template(
        "organiser/confirm_registration_cancel.html",
        registration=registration,
        session=session,
        position=rules.waitlist_position(registration),
        waiting=rules.seat_counts(session, now=utcnow()).waitlisted,
        action=url_for("organiser.registration_cancel", registration_id=registration.id),
        yes_label=_("Ja, stornieren"),
        back_url=_back_url(registration),
        hidden={"back": "checkin"} if request.form.get("back") == "checkin" else {},
        form=form,
    )


@bp.post("/registrations/<int:registration_id>/cancel")
def registration_cancel(registration_id: int):
    if request.form.get("confirmed") != "1":
        return _confirm_cancel(registration_id)
    return _registration_action(
        registration_id,
        lambda r: rules.cancel_registration(r, now=utcnow()),
        _("Anmeldung storniert."),
    )


@bp.post("/registrations/<int:registration_id>/move-up")
def registration_move_up(registration_id: int):
    return _registration_action(
        registration_id,
        lambda r: rules.move_to_top_of_waitlist(r, now=utcnow()),
        _("An die Spitze der Warteliste gesetzt."),
    )


@bp.post("/registrations/<int:registration_id>/attendance")
def registration_attendance(registration_id: int):
    attended = request.form.get("attended") == "1"
    return _registration_action(
        registration_id,
        lambda r: rules.set_attendance(r, attended, now=utcnow()),
        _("Anwesenheit eingetragen.") if attended else _("Anwesenheit zurückgenommen."),
    )


@bp.get("/sessions/<int:session_id>/registrations.csv")
def registrations_csv(session_id: int):
    session = managed_session_or_404(session_id)
    filename = f"anmeldungen-{session.format.slug}-{session.local_start:%Y-%m-%d}.csv"
    return Response(
        participants.registrations_csv(session),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
