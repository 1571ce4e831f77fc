"""The organisers' back office: formats, their dates, and who is coming."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from eventsapp.access import (
    managed_format_or_404,
    managed_registration_or_404,
    managed_session_or_404,
    organiser_required,
)
from eventsapp.database import db, utcnow
from eventsapp.formatting import status_label
from eventsapp.forms import ActionForm
from eventsapp.i18n import LANGUAGE_NAMES
from eventsapp.models import Contingent, Organisation, Session, SessionStatus, Visibility
from eventsapp.organiser import bp
from eventsapp.organiser.forms import (
    TRANSLATED_LANGUAGES,
    CancelSessionForm,
    ContingentForm,
    FormatForm,
    FormatTranslationsForm,
    GenerateForm,
    ManualRegistrationForm,
    PublishForm,
    ScheduleForm,
    SessionForm,
)
from eventsapp.services import contingents as seat_quotas
from eventsapp.services import overview, participants, scheduling
from eventsapp.services import registrations as rules
from eventsapp.services.formats import FormatValues, create_format, update_format
from eventsapp.services.recurrence import RecurrenceError, local_to_utc


@bp.before_request
@organiser_required
def require_organiser() -> None:
    """Every view of this blueprint is for organisers and admins only."""


def _add_error(form, error: RecurrenceError, default_field: str | None = None) -> None:
    name = error.field if error.field and error.field in form else default_field
    if name:
        form[name].errors = [*form[name].errors, str(error.message)]
    else:
        flash(str(error.message), "error")


def _organisation(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(400)
    return organisation


# --- overview ------------------------------------------------------------------------------


@bp.get("/")
def dashboard():
    now = utcnow()
    sessions = overview.next_sessions(current_user, now=now)
    return render_template(
        "organiser/dashboard.html",
        sessions=sessions,
        counts=rules.seat_counts_for(sessions, now=now),
        formats=overview.managed_formats(current_user),
    )


@bp.get("/calendar")
def calendar():
    timezone = current_app.config["EVENTSAPP_TIMEZONE"]
    try:
        month = datetime.strptime(request.args.get("month", ""), "%Y-%m")
    except ValueError:
        month = utcnow().astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    if not 2000 <= month.year <= 2100:
        abort(404)
    weeks, by_day = overview.month_grid(current_user, month.year, month.month, timezone)
    first = month.replace(day=1)
    previous = (first - timedelta(days=1)).strftime("%Y-%m")
    following = (first + timedelta(days=32)).strftime("%Y-%m")
    return render_template(
        "organiser/calendar.html",
        weeks=weeks,
        by_day=by_day,
        month=first,
        previous=previous,
        following=following,
    )


# --- formats -------------------------------------------------------------------------------


def _format_values(form: FormatForm) -> FormatValues:
    return FormatValues(
        title=form.title.data,
        summary=form.summary.data or "",
        description=form.description.data or "",
        host_organisation=_organisation(form.host_organisation.data),
        venue_name=form.venue_name.data,
        venue_address=form.venue_address.data,
        duration_minutes=form.duration_minutes.data,
        capacity=form.capacity.data,
        visibility=Visibility(form.visibility.data),
        approval_required=form.approval_required.data,
        reminder_minutes=form.reminder_minutes(),
        announce_to_all_partners=form.announce_to.data == "all",
        announcement_partners=[_organisation(i) for i in form.announcement_partners.data or []],
    )


def _format_form(format=None) -> FormatForm:
    form = FormatForm(
        obj=format,
        host_choices=overview.host_choices(current_user),
        partner_choices=overview.partner_choices(),
    )
    if format is not None and not form.is_submitted():
        form.host_organisation.data = format.host_organisation_id
        form.visibility.data = format.visibility.value
        form.reminder_hours.data = ", ".join(str(m // 60) for m in format.reminder_minutes)
        form.announce_to.data = "all" if format.announce_to_all_partners else "selected"
        form.announcement_partners.data = [o.id for o in format.announcement_partners]
    elif format is None and not form.is_submitted():
        form.reminder_hours.data = "48, 3"
    return form


@bp.route("/formats/new", methods=["GET", "POST"])
def format_new():
    form = _format_form()
    if form.validate_on_submit():
        format = create_format(
            _format_values(form), now=utcnow(), timezone=current_app.config["EVENTSAPP_TIMEZONE"]
        )
        db.session.commit()
        flash(_("Das Format ist angelegt. Planen Sie jetzt die Termine."), "success")
        return redirect(url_for("organiser.format_schedule", format_id=format.id), 303)
    return render_template("organiser/format_form.html", form=form, format=None), (
        422 if form.errors else 200
    )


@bp.route("/formats/<int:format_id>/edit", methods=["GET", "POST"])
def format_edit(format_id: int):
    format = managed_format_or_404(format_id)
    form = _format_form(format)
    if form.validate_on_submit():
        update_format(format, _format_values(form), now=utcnow())
        db.session.commit()
        flash(_("Änderungen gespeichert."), "success")
        return redirect(url_for("organiser.format_detail", format_id=format.id), 303)
    return render_template("organiser/format_form.html", form=form, format=format), (
        422 if form.errors else 200
    )


@bp.route("/formats/<int:format_id>/translations", methods=["GET", "POST"])
def format_translations(format_id: int):
    """Title, summary and description in the other languages; German stays the fallback."""
    format = managed_format_or_404(format_id)
    form = FormatTranslationsForm()
    if not form.is_submitted():
        for language, values in (format.translations or {}).items():
            for field, value in values.items():
                if f"{field}_{language}" in form:
                    form[f"{field}_{language}"].data = value
    if form.validate_on_submit():
        format.translations = form.translations()
        format.updated_at = utcnow()
        db.session.commit()
        flash(_("Übersetzungen gespeichert."), "success")
        return redirect(url_for("organiser.format_detail", format_id=format.id), 303)
    return render_template(
        "organiser/format_translations.html",
        format=format,
        form=form,
        languages=TRANSLATED_LANGUAGES,
        language_names=LANGUAGE_NAMES,
    ), 422 if form.errors else 200


def _drafts(format) -> list[Session]:
    return list(
        db.session.execute(
            select(Session)
            .where(Session.format_id == format.id, Session.status == SessionStatus.DRAFT)
            .order_by(Session.starts_at)
        ).scalars()
    )


def _render_format(format, publish_form=None, generate_form=None, status: int = 200):
    now = utcnow()
    sessions = list(
        db.session.execute(
            select(Session)
            .where(Session.format_id == format.id, Session.ends_at > now)
            .order_by(Session.starts_at)
        ).scalars()
    )
    drafts = [s for s in sessions if s.status == SessionStatus.DRAFT]
    if publish_form is None:
        publish_form = PublishForm(draft_choices=[(s.id, str(s.id)) for s in drafts])
    return render_template(
        "organiser/format_detail.html",
        format=format,
        sessions=sessions,
        drafts=drafts,
        counts=rules.seat_counts_for(sessions, now=now),
        publish_form=publish_form,
        generate_form=generate_form or GenerateForm(),
        action_form=ActionForm(),
    ), status


@bp.get("/formats/<int:format_id>")
def format_detail(format_id: int):
    return _render_format(managed_format_or_404(format_id))


@bp.route("/formats/<int:format_id>/schedule", methods=["GET", "POST"])
def format_schedule(format_id: int):
    format = managed_format_or_404(format_id)
    form = ScheduleForm()
    if request.method == "GET":
        form.start_date.data = utcnow().date()
        form.start_time.data = format.start_time or datetime.strptime("18:00", "%H:%M").time()
    preview = None
    if form.validate_on_submit():
        spec = form.spec()
        try:
            local_starts = spec.local_starts()
            preview = scheduling.preview_dates(format, local_starts, now=utcnow())
            if request.form.get("action") == "create":
                scheduling.apply_recurrence(format, spec)
                created = scheduling.generate_sessions(
                    format, now=utcnow(), until=max(s.date() for s in local_starts)
                )
                db.session.commit()
                flash(
                    _(
                        "%(count)d Termine als Entwurf angelegt. Prüfen und veröffentlichen "
                        "Sie sie hier.",
                        count=len(created),
                    ),
                    "success",
                )
                return redirect(url_for("organiser.format_detail", format_id=format.id), 303)
        except RecurrenceError as error:
            db.session.rollback()
            preview = None
            _add_error(form, error, default_field="end")
    status = 422 if form.errors else 200
    return render_template(
        "organiser/schedule.html", format=format, form=form, preview=preview
    ), status


@bp.post("/formats/<int:format_id>/generate")
def format_generate(format_id: int):
    format = managed_format_or_404(format_id)
    form = GenerateForm()
    if not form.validate_on_submit():
        return _render_format(format, generate_form=form, status=422)
    try:
        created = scheduling.generate_sessions(format, now=utcnow(), until=form.until.data)
    except RecurrenceError as error:
        db.session.rollback()
        _add_error(form, error, default_field="until")
        return _render_format(format, generate_form=form, status=422)
    db.session.commit()
    flash(_("%(count)d Termine als Entwurf angelegt.", count=len(created)), "success")
    return redirect(url_for("organiser.format_detail", format_id=format.id), 303)


@bp.post("/formats/<int:format_id>/publish")
def format_publish(format_id: int):
    format = managed_format_or_404(format_id)
    drafts = _drafts(format)
    form = PublishForm(draft_choices=[(s.id, str(s.id)) for s in drafts])
    if not form.validate_on_submit():
        return _render_format(format, publish_form=form, status=422)
    chosen = [s for s in drafts if s.id in set(form.sessions.data)]
    publication = scheduling.publish_sessions(format, chosen, now=utcnow(), by=current_user)
    db.session.commit()
    flash(_("%(count)d Termine veröffentlicht.", count=len(chosen)), "success")
    current_app.logger.info("publication %s: %s sessions", publication.id, len(chosen))
    return redirect(url_for("organiser.format_detail", format_id=format.id), 303)


# --- sessions ------------------------------------------------------------------------------


def _render_session(
    session: Session, *, manual_form=None, contingent_form=None, cancel_form=None, status: int = 200
):
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
        positions={r.id: i + 1 for i, r in enumerate(rules.waitlist(session))},
        counts=rules.seat_counts(session, now=now),
        query=query,
        wanted=wanted,
        statuses=list(rules.RegistrationStatus),
        manual_form=manual_form or ManualRegistrationForm(languages=languages),
        contingent_form=contingent_form or _contingent_form(session),
        cancel_form=cancel_form or CancelSessionForm(),
        action_form=ActionForm(),
        now=now,
    ), status


def _contingent_form(session: Session, **kwargs) -> ContingentForm:
    form = ContingentForm(partner_choices=overview.partner_choices(), **kwargs)
    if request.method == "GET":
        release = session.local_start - timedelta(days=7)
        form.release_date.data, form.release_time.data = release.date(), release.time()
    return form


@bp.get("/sessions/<int:session_id>")
def session_detail(session_id: int):
    return _render_session(managed_session_or_404(session_id))


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
    if form.validate_on_submit():
        now = utcnow()
        try:
            local_start = datetime.combine(form.start_date.data, form.start_time.data)
            local_end = datetime.combine(form.start_date.data, form.end_time.data)
            duration = local_to_utc(local_end, session.timezone) - local_to_utc(
                local_start, session.timezone
            )
            if (local_start, local_end) != (
                session.local_start.replace(tzinfo=None),
                session.local_end.replace(tzinfo=None),
            ):
                scheduling.reschedule_session(
                    session,
                    local_start=local_start,
                    duration=duration,
                    now=now,
                    following=form.scope.data == "following",
                )
            scheduling.update_session_details(
                session,
                scheduling.SessionDetails(
                    venue_name=form.venue_name.data,
                    venue_address=form.venue_address.data or "",
                    host_organisation=_organisation(form.host_organisation.data),
                    capacity=form.capacity.data,
                    languages=",".join(form.languages.data or []),
                    interpreting=form.interpreting.data or "",
                    note=form.note.data or "",
                ),
                now=now,
            )
        except RecurrenceError as error:
            db.session.rollback()
            _add_error(form, error, default_field="start_time")
        else:
            db.session.commit()
            flash(_("Änderungen gespeichert."), "success")
            return redirect(url_for("organiser.session_detail", session_id=session.id), 303)
    return render_template("organiser/session_edit.html", session=session, form=form), (
        422 if form.errors else 200
    )


@bp.post("/sessions/<int:session_id>/cancel")
def session_cancel(session_id: int):
    session = managed_session_or_404(session_id)
    form = CancelSessionForm()
    if not form.validate_on_submit():
        return _render_session(session, cancel_form=form, status=422)
    try:
        scheduling.cancel_session(session, reason=form.reason.data, now=utcnow())
    except RecurrenceError as error:
        db.session.rollback()
        form.reason.errors = [str(error.message)]
        return _render_session(session, cancel_form=form, status=409)
    db.session.commit()
    flash(_("Der Termin ist abgesagt. Alle Angemeldeten bekommen eine E-Mail."), "success")
    return redirect(url_for("organiser.session_detail", session_id=session.id), 303)


@bp.post("/sessions/<int:session_id>/skip")
def session_skip(session_id: int):
    session = managed_session_or_404(session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    format_id = session.format_id
    try:
        scheduling.skip_draft(session)
    except RecurrenceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Der Entwurf ist entfernt und wird nicht wieder angelegt."), "success")
    return redirect(url_for("organiser.format_detail", format_id=format_id), 303)


# --- registrations -------------------------------------------------------------------------


@bp.post("/sessions/<int:session_id>/registrations")
def registration_add(session_id: int):
    session = managed_session_or_404(session_id)
    form = ManualRegistrationForm(languages=current_app.config["EVENTSAPP_LANGUAGES"])
    if not form.validate_on_submit():
        return _render_session(session, manual_form=form, status=422)
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
        return _render_session(session, manual_form=form, status=409)
    except rules.RegistrationClosed:
        db.session.rollback()
        form.email.errors = [_("Für diesen Termin sind keine Anmeldungen mehr möglich.")]
        return _render_session(session, manual_form=form, status=409)
    db.session.commit()
    flash(
        _(
            "%(name)s ist eingetragen (%(status)s).",
            name=registration.name,
            status=status_label(registration.status),
        ),
        "success",
    )
    return redirect(url_for("organiser.session_detail", session_id=session.id), 303)


def _registration_action(registration_id: int, action, done_message: str):
    registration = managed_registration_or_404(registration_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        action(registration)
    except rules.RegistrationError:
        db.session.rollback()
        flash(_("Das ist für diese Anmeldung nicht (mehr) möglich."), "error")
    else:
        db.session.commit()
        flash(done_message, "success")
    target = request.form.get("back") == "checkin"
    endpoint = "organiser.checkin" if target else "organiser.session_detail"
    return redirect(
        url_for(endpoint, session_id=registration.session_id)
        + (f"#r{registration.id}" if target else ""),
        303,
    )


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


@bp.post("/registrations/<int:registration_id>/cancel")
def registration_cancel(registration_id: int):
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


@bp.get("/sessions/<int:session_id>/checkin")
def checkin(session_id: int):
    session = managed_session_or_404(session_id)
    confirmed = participants.list_registrations(session, status="confirmed")
    return render_template(
        "organiser/checkin.html",
        session=session,
        registrations=confirmed,
        present=sum(1 for r in confirmed if r.attended),
        action_form=ActionForm(),
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


# --- contingents ---------------------------------------------------------------------------


@bp.post("/sessions/<int:session_id>/contingents")
def contingent_set(session_id: int):
    session = managed_session_or_404(session_id)
    form = _contingent_form(session)
    if not form.validate_on_submit():
        return _render_session(session, contingent_form=form, status=422)
    try:
        release_at = local_to_utc(
            datetime.combine(form.release_date.data, form.release_time.data), session.timezone
        )
        seat_quotas.set_contingent(
            session,
            _organisation(form.organisation.data),
            seats=form.seats.data,
            release_at=release_at,
            now=utcnow(),
        )
    except RecurrenceError as error:
        db.session.rollback()
        _add_error(form, error, default_field="seats")
        return _render_session(session, contingent_form=form, status=422)
    db.session.commit()
    flash(_("Kontingent gespeichert."), "success")
    return redirect(url_for("organiser.session_detail", session_id=session.id), 303)


@bp.post("/contingents/<int:contingent_id>/delete")
def contingent_delete(contingent_id: int):
    contingent = db.session.get(Contingent, contingent_id)
    if contingent is None:
        abort(404)
    session = managed_session_or_404(contingent.session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    seat_quotas.remove_contingent(contingent, now=utcnow())
    db.session.commit()
    flash(_("Kontingent entfernt; die Plätze sind für alle frei."), "success")
    return redirect(url_for("organiser.session_detail", session_id=session.id), 303)
