"""Admin pages: organisations and accounts (the outbox: eventsapp/admin/outbox.py).

Everything else admins do is in the back office."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from eventsapp.access import admin_required
from eventsapp.acknowledgements import acknowledge, back_to
from eventsapp.admin import bp
from eventsapp.admin.forms import InviteForm, OrganisationForm
from eventsapp.database import db, utcnow
from eventsapp.forms import ActionForm
from eventsapp.models import Organisation, OrganisationKind, Role, User
from eventsapp.services import accounts
from eventsapp.services.formats import unique_slug


@bp.before_request
@admin_required
def require_admin() -> None:
    """Every view of this blueprint is for admins only."""


@bp.get("/")
def index():
    return redirect(url_for("admin.organisations"))


@bp.get("/organisations")
def organisations():
    rows = (
        db.session.execute(select(Organisation).order_by(Organisation.kind, Organisation.name))
        .scalars()
        .all()
    )
    return render_template("admin/organisations.html", organisations=rows)


def _save_organisation(organisation: Organisation, form: OrganisationForm) -> None:
    organisation.name = form.name.data
    organisation.kind = OrganisationKind(form.kind.data)
    organisation.contact_email = form.contact_email.data or None
    organisation.language = form.language.data
    organisation.website = form.website.data or None
    organisation.venue_name = form.venue_name.data or None
    organisation.venue_address = form.venue_address.data or None
    organisation.description = form.description.data or ""
    organisation.embed_origins = form.embed_origins.data or ""


@bp.route("/organisations/new", methods=["GET", "POST"])
def organisation_new():
    form = OrganisationForm()
    if form.validate_on_submit():
        organisation = Organisation(slug=unique_slug(form.name.data), created_at=utcnow())
        _save_organisation(organisation, form)
        db.session.add(organisation)
        db.session.commit()
        flash(_("Organisation angelegt."), "success")
        return redirect(url_for("admin.organisations"), 303)
    return render_template("admin/organisation_form.html", form=form, organisation=None), (
        422 if form.errors else 200
    )


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def organisation_edit(organisation_id: int):
    organisation = db.session.get(Organisation, organisation_id) or abort(404)
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        _save_organisation(organisation, form)
        db.session.commit()
        flash(_("Änderungen gespeichert."), "success")
        return redirect(url_for("admin.organisations"), 303)
    if not form.is_submitted():
        form.kind.data = organisation.kind.value
    return render_template(
        "admin/organisation_form.html", form=form, organisation=organisation
    ), 422 if form.errors else 200


def _invite_form() -> InviteForm:
    choices = [
        (o.id, o.name)
        for o in db.session.execute(
            select(Organisation).order_by(Organisation.kind, Organisation.name)
        ).scalars()
    ]
    return InviteForm(
        organisation_choices=choices, languages=current_app.config["EVENTSAPP_LANGUAGES"]
    )


@bp.route("/users", methods=["GET", "POST"])
def users():
    form = _invite_form()
    if form.validate_on_submit():
        organisation = (
            db.session.get(Organisation, form.organisation.data) if form.organisation.data else None
        )
        try:
            user = accounts.create_user(
                email=form.email.data,
                name=form.name.data,
                role=Role(form.role.data),
                organisation=organisation,
                language=form.language.data,
                now=utcnow(),
            )
            accounts.invite_user(user, now=utcnow())
        except accounts.AccountError as error:
            db.session.rollback()
            field = error.field if error.field in form else "email"
            form[field].errors.append(str(error.message))
        else:
            db.session.commit()
            acknowledge(_("Einladung an %(email)s ist unterwegs.", email=user.email), "invite")
            return back_to(url_for("admin.users"), "invite")
    rows = db.session.execute(select(User).order_by(User.name)).scalars().all()
    return render_template("admin/users.html", users=rows, form=form, action_form=ActionForm()), (
        422 if form.errors else 200
    )


@bp.post("/users/<int:user_id>/reinvite")
def user_reinvite(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    accounts.invite_user(user, now=utcnow())
    db.session.commit()
    flash(_("Neuer Link an %(email)s ist unterwegs.", email=user.email), "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<int:user_id>/active")
def user_toggle_active(user_id: int):
    """Unblock at once; block only from the confirmation page (`confirmed`)."""
    user = db.session.get(User, user_id) or abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    confirmed = request.form.get("confirmed") == "1"
    if user.active and not confirmed:
        return render_template(
            "admin/confirm_block.html",
            user=user,
            action=url_for("admin.user_toggle_active", user_id=user.id),
            yes_label=_("Ja, sperren"),
            back_url=url_for("admin.users"),
            form=form,
        )
    if confirmed and not user.active:  # a second "Ja, sperren" must not unblock
        flash(_("Das Konto ist bereits gesperrt."), "info")
        return redirect(url_for("admin.users"), 303)
    user.active = not user.active
    accounts.end_all_sessions(user)
    db.session.commit()
    flash(_("Konto freigeschaltet.") if user.active else _("Konto gesperrt."), "success")
    return redirect(url_for("admin.users"), 303)
