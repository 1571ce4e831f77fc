"""Partner contingents: seats of a session kept for one partner until a release time."""

from __future__ import annotations

from datetime import datetime

from flask import abort, url_for
from flask_babel import gettext as _

from eventsapp.access import managed_session_or_404
from eventsapp.acknowledgements import acknowledge, back_to
from eventsapp.database import db, utcnow
from eventsapp.forms import ActionForm
from eventsapp.models import Contingent
from eventsapp.organiser import bp
from eventsapp.organiser.common import (
    add_error,
    contingent_form_for,
    organisation_or_400,
    render_session,
)
from eventsapp.services import contingents as seat_quotas
from eventsapp.services.recurrence import RecurrenceError, local_to_utc


@bp.post("/sessions/<int:session_id>/contingents")
def contingent_set(session_id: int):
    session = managed_session_or_404(session_id)
    form = contingent_form_for(session)
    if not form.validate_on_submit():
        return render_session(session, contingent_form=form, status=422)
    try:
        release_at = local_to_utc(
            datetime.combine(form.release_date.data, form.release_time.data), session.timezone
        )
        seat_quotas.set_contingent(
            session,
            organisation_or_400(form.organisation.data),
            seats=form.seats.data,
            release_at=release_at,
            now=utcnow(),
        )
    except RecurrenceError as error:
        db.session.rollback()
        add_error(form, error, default_field="release_date")
        return render_session(session, contingent_form=form, status=422)
    db.session.commit()
    acknowledge(_("Kontingent gespeichert."), "contingents")
    return back_to(url_for("organiser.session_detail", session_id=session.id), "contingents")


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
    acknowledge(_("Kontingent entfernt; die Plätze sind für alle frei."), "contingents")
    return back_to(url_for("organiser.session_detail", session_id=session.id), "contingents")
