"""Sign in and out, set a password from an invitation or a reset link, change it."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from eventsapp.acknowledgements import acknowledge, back_to
from eventsapp.auth import bp
from eventsapp.auth.forms import (
    ChangePasswordForm,
    FollowForm,
    LoginForm,
    PasswordResetForm,
    SetPasswordForm,
)
from eventsapp.database import db, utcnow
from eventsapp.forms import ActionForm
from eventsapp.ratelimits import form_limits
from eventsapp.services import accounts, feeds, password_reset, report_pdf, reports, subscriptions
from eventsapp.services import partner_registrations as partners
from eventsapp.services import registrations as rules
from eventsapp.services import sessions as listing
from eventsapp.tokens import manage_token


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or len(target) > 500:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target


def _home_for(user) -> str:
    return url_for("organiser.dashboard") if user.is_organiser else url_for("public.home")


@bp.route("/login", methods=["GET", "POST"])
@form_limits("LOGIN")
def login():
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data, now=utcnow())
        if user is not None:
            db.session.commit()
            session.clear()  # no session fixation: a fresh cookie for the signed-in user
            login_user(user)
            return redirect(next_url or _home_for(user), 303)
        form.password.errors.append(_("E-Mail-Adresse oder Passwort stimmen nicht."))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form, next_url=next_url), status


@bp.post("/logout")
@login_required
def logout():
    accounts.end_all_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Sie sind ausgeloggt."), "success")
    return redirect(url_for("public.home"), 303)


@bp.route("/reset-password", methods=["GET", "POST"])
@form_limits("PASSWORD_RESET")
def reset_password():
    """Ask for a new set-password link. Every valid address gets the same answer; only an
    existing, active account gets a mail."""
    form = PasswordResetForm()
    if form.validate_on_submit():
        password_reset.request_reset(form.email.data, now=utcnow())
        db.session.commit()
        return redirect(url_for("auth.reset_password_sent"), 303)
    return render_template(
        "auth/reset_password.html", form=form, hours=password_reset.hours_valid()
    ), (422 if form.errors else 200)


@bp.get("/reset-password/sent")
def reset_password_sent():
    return render_template("auth/reset_password_sent.html", hours=password_reset.hours_valid())


def _link_void():
    """An expired, used or replaced set-password link: say so, and offer a new one."""
    return render_template("auth/password_link_void.html"), 404


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    user = accounts.user_from_password_token(token, now=utcnow())
    if user is None:
        return _link_void()
    form = SetPasswordForm()
    if form.validate_on_submit():
        if accounts.set_password_with_link(token, form.password.data, now=utcnow()) is None:
            db.session.rollback()  # the same link was used a moment ago
            return _link_void()
        db.session.commit()
        flash(_("Ihr Passwort ist gespeichert. Bitte loggen Sie sich ein."), "success")
        return redirect(url_for("auth.login"), 303)
    return render_template(
        "auth/set_password.html", form=form, user=user, renewing=bool(user.password_hash)
    ), (422 if form.errors else 200)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user, form.current.data, form.password.data, now=utcnow()
            )
        except accounts.AccountError as error:
            field = error.field if error.field in form else "current"
            form[field].errors.append(str(error.message))
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("Ihr Passwort ist geändert. Bitte loggen Sie sich neu ein."), "success")
            return redirect(url_for("auth.login"), 303)
    feed_url = feeds.personal_feed_url(current_user.email)
    follow = _follow_form()
    now = utcnow()
    mine = rules.registrations_of(current_user.email)
    organisation_rows = (
        partners.organisation_registrations(current_user.organisation_id, now=now)
        if current_user.is_partner and current_user.organisation_id
        else None
    )
    return render_template(
        "auth/account.html",
        organisation_rows=organisation_rows,
        cancel_form=ActionForm(),
        upcoming=[r for r in mine if r.session.ends_at > now][::-1],  # the next one first
        past=[r for r in mine if r.session.ends_at <= now],
        manage_token=manage_token,
        form=form,
        feed_url=feed_url,
        feed_form=ActionForm(),
        follow_form=follow,
    ), 422 if form.errors else 200


@bp.post("/account/feed")
@login_required
def account_feed():
    """Set up the account's calendar feed, or give it a new address (old links stop)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    if feeds.set_up_or_renew(current_user.email, now=utcnow(), language=get_locale().language):
        acknowledge(_("Ihr persönlicher Kalender ist eingerichtet."), "calendar")
    else:
        acknowledge(
            _("Ihr Kalender hat eine neue Adresse; die alte funktioniert nicht mehr."), "calendar"
        )
    db.session.commit()
    return back_to(url_for("auth.account"), "calendar")


def _follow_form() -> FollowForm:
    formats = listing.followable_formats(current_user)
    form = FollowForm(format_choices=[(f.id, f.title) for f in formats])
    if not form.is_submitted():
        form.formats.data = sorted(subscriptions.followed_format_ids(current_user))
    return form


@bp.post("/account/follow")
@login_required
def account_follow():
    """Which formats' new dates the account holder hears about."""
    form = _follow_form()
    if not form.validate_on_submit():
        abort(400)
    subscriptions.follow_formats(
        current_user,
        listing.followable_formats(current_user),
        set(form.formats.data or []),
        now=utcnow(),
    )
    db.session.commit()
    acknowledge(_("Gespeichert."), "follow")
    return back_to(url_for("auth.account"), "follow")


def _organisation_registration_or_404(registration_id: int):
    registration = partners.registration_of_organisation(registration_id, current_user)
    if registration is None:
        abort(404)
    return registration


@bp.route(
    "/account/organisation/registrations/<int:registration_id>/cancel", methods=["GET", "POST"]
)
@login_required
def organisation_registration_cancel(registration_id: int):
    """A partner member cancels a registration of their organisation: GET asks first (what
    will happen), POST cancels; the person is mailed as if they had cancelled."""
    registration = _organisation_registration_or_404(registration_id)
    form = ActionForm()
    now = utcnow()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            rules.cancel_registration(registration, now=now)
        except rules.RegistrationError:
            db.session.rollback()
            acknowledge(
                _("Diese Anmeldung kann nicht mehr storniert werden."), "organisation", "error"
            )
        else:
            db.session.commit()
            acknowledge(
                _(
                    "Die Anmeldung von %(name)s ist storniert. Die Person bekommt eine "
                    "Bestätigung per E-Mail.",
                    name=registration.name,
                ),
                "organisation",
            )
        return back_to(url_for("auth.account"), "organisation")
    if not registration.is_active or now >= registration.session.starts_at:
        acknowledge(_("Diese Anmeldung kann nicht mehr storniert werden."), "organisation", "error")
        return back_to(url_for("auth.account"), "organisation")
    return render_template(
        "auth/confirm_organisation_cancel.html",
        registration=registration,
        session=registration.session,
        position=rules.waitlist_position(registration),
        form=form,
        action=url_for("auth.organisation_registration_cancel", registration_id=registration.id),
        yes_label=_("Ja, stornieren"),
        back_url=url_for("auth.account", _anchor="organisation"),
    )


@bp.get("/account/reports")
@login_required
def partner_reports():
    """A partner organisation's report: its people at the dates of a year, the programme's
    trust trend and the topics people suggested, with what became of them. Organisers and
    admins have the full reports."""
    if current_user.is_organiser:
        return redirect(url_for("organiser.reports_page"), 303)
    if not current_user.is_partner or current_user.organisation_id is None:
        abort(403)
    now = utcnow()
    zone = current_app.config["EVENTSAPP_TIMEZONE"]
    year = reports.year_or_current(request.args.get("year"), now=now)
    partner = reports.partner_report(current_user.organisation_id, year, zone=zone, now=now)
    return render_template(
        "auth/partner_reports.html",
        partner=partner,
        years=range(now.year, reports.FIRST_YEAR - 1, -1),
        # The topics name dates: listed only where this member may see the date.
        **report_pdf.context(partner.programme, audience=listing.audience_of(current_user)),
    )
