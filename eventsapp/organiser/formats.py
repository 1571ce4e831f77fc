"""Formats and planning their dates: settings, translations, the rule, drafts, publishing."""

from __future__ import annotations

from datetime import time

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from eventsapp.access import managed_format_or_404
from eventsapp.database import db, utcnow
from eventsapp.forms import ActionForm
from eventsapp.i18n import LANGUAGE_NAMES
from eventsapp.models import FeedbackAudience, Session, SessionStatus, Visibility
from eventsapp.organiser import bp
from eventsapp.organiser.common import add_error, fill_translations, organisation_or_400
from eventsapp.organiser.forms import (
    TRANSLATED_LANGUAGES,
    FormatForm,
    FormatTranslationsForm,
    GenerateForm,
    PublishForm,
    ScheduleForm,
)
from eventsapp.services import embeds, overview, scheduling
from eventsapp.services import registrations as rules
from eventsapp.services.formats import FormatValues, create_format, update_format
from eventsapp.services.recurrence import RecurrenceError


def _format_values(form: FormatForm) -> FormatValues:
    return FormatValues(
        title=form.title.data,
        summary=form.summary.data or "",
        description=form.description.data or "",
        host_organisation=organisation_or_400(form.host_organisation.data),
        venue_name=form.venue_name.data,
        venue_address=form.venue_address.data,
        duration_minutes=form.duration_minutes.data,
        capacity=form.capacity.data,
        visibility=Visibility(form.visibility.data),
        approval_required=form.approval_required.data,
        reminder_minutes=form.reminder_minutes(),
        announce_to_all_partners=form.announce_to.data == "all",
        announcement_partners=[
            organisation_or_400(i) for i in form.announcement_partners.data or []
        ],
        practical=form.practical_values(),
        feedback_audience=FeedbackAudience(form.feedback_audience.data),
        feedback_delay_hours=form.feedback_delay_hours.data,
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
        form.feedback_audience.data = format.feedback_audience.value
        form.reminder_hours.data = ", ".join(str(m // 60) for m in format.reminder_minutes)
        form.announce_to.data = "all" if format.announce_to_all_partners else "selected"
        form.announcement_partners.data = [o.id for o in format.announcement_partners]
        form.show_practical(format)
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
    fill_translations(form, format.translations)
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
        embed_origins=embeds.format_origins(format),
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
        form.start_time.data = format.start_time or time(18, 0)
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
            add_error(form, error, default_field="end")
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
        add_error(form, error, default_field="until")
        return _render_format(format, generate_form=form, status=422)
    db.session.commit()
    flash(_("%(count)d Termine als Entwurf angelegt.", count=len(created)), "success")
    return redirect(url_for("organiser.format_detail", format_id=format.id), 303)


@bp.post("/formats/<int:format_id>/publish")
def format_publish(format_id: int):
    format = managed_format_or_404(format_id)
    drafts = _drafts(format)
    form = PublishForm(draft_choices=[(s.id, str(s.id)) for s in drafts])
    if request.form.get("all") == "1":  # "publish all": no ticking needed
        form.sessions.data = [s.id for s in drafts]
    if not form.validate_on_submit():
        return _render_format(format, publish_form=form, status=422)
    chosen = [s for s in drafts if s.id in set(form.sessions.data)]
    try:
        publication = scheduling.publish_sessions(format, chosen, now=utcnow(), by=current_user)
    except RecurrenceError as error:
        db.session.rollback()
        add_error(form, error, default_field="sessions")
        return _render_format(format, publish_form=form, status=422)
    db.session.commit()
    flash(_("%(count)d Termine veröffentlicht.", count=len(chosen)), "success")
    current_app.logger.info("publication %s: %s sessions", publication.id, len(chosen))
    return redirect(url_for("organiser.format_detail", format_id=format.id), 303)
