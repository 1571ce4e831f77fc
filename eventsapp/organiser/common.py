"""What the organiser's areas share: service errors on form fields, and the session page."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, render_template, request
from flask_wtf import FlaskForm

from eventsapp.database import db, utcnow
from eventsapp.forms import ActionForm
from eventsapp.models import Organisation, Session
from eventsapp.organiser.forms import (
    TRANSLATED_LANGUAGES,
    CancelSessionForm,
    ContingentForm,
    ManualRegistrationForm,
)
from eventsapp.services import overview, participants
from eventsapp.services import registrations as rules
from eventsapp.services.recurrence import RecurrenceError


def add_error(form: FlaskForm, error: RecurrenceError, default_field: str | None = None) -> None:
    """Show a service's refusal under the input it is about.

    Services name that input in their own words (`error.field`); a form whose inputs are
    called differently maps those names in `service_fields` (a contingent's `release_at` is
    the form's `release_date`). An error that names no input of the form goes under
    `default_field`, or above the page when there is none.
    """
    name = getattr(form, "service_fields", {}).get(error.field, error.field)
    if name not in form:
        name = default_field
    if name:
        form[name].errors = [*form[name].errors, str(error.message)]
    else:
        flash(str(error.message), "error")


def organisation_or_400(organisation_id: int) -> Organisation:
    """The organisation a form chose; the form's own choices make a missing one a bad request."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(400)
    return organisation


def contingent_form_for(session: Session, **kwargs) -> ContingentForm:
    """The contingent form; a new one suggests releasing the seats a week before the start."""
    form = ContingentForm(partner_choices=overview.partner_choices(), **kwargs)
    if request.method == "GET":
        release = session.local_start - timedelta(days=7)
        form.release_date.data, form.release_time.data = release.date(), release.time()
    return form


def fill_translations(form: FlaskForm, translations: dict | None) -> None:
    """Show saved translations ({language: {field: text}}) in a form whose inputs are named
    `<field>_<language>`, unless the form was just sent."""
    if form.is_submitted():
        return
    for language, values in (translations or {}).items():
        for field, value in values.items():
            if f"{field}_{language}" in form:
                form[f"{field}_{language}"].data = value


def render_session(
    session: Session, *, manual_form=None, contingent_form=None, cancel_form=None, status: int = 200
):
    """A session's page: its registrations and the forms that change them.

    The forms that failed are passed in and shown with their errors; the others are new.
    """
    now = utcnow()
    query = (request.args.get("q") or "").strip()[:100]
    wanted = request.args.get("status") or None
    if wanted not in {s.value for s in rules.RegistrationStatus}:
        wanted = None
    registrations = participants.list_registrations(session, query=query, status=wanted)
    languages = current_app.config["EVENTSAPP_LANGUAGES"]
    return render_template(
        "organiser/session.html",
        session=session,
        registrations=registrations,
        questions=participants.questions(session),
        positions={r.id: i + 1 for i, r in enumerate(rules.waitlist(session))},
        counts=rules.seat_counts(session, now=now),
        kept=rules.seat_ledger(session, now=now).quotas,  # by organisation, unreleased only
        query=query,
        wanted=wanted,
        statuses=list(rules.RegistrationStatus),
        manual_form=manual_form or ManualRegistrationForm(languages=languages),
        contingent_form=contingent_form or contingent_form_for(session),
        cancel_form=cancel_form or CancelSessionForm(),
        translated_languages=TRANSLATED_LANGUAGES,
        action_form=ActionForm(),
        now=now,
    ), status
