"""The personal pages behind mailed links: one registration, and an address's calendar.

A manage link belongs to one registration and shows that registration only: links get
forwarded and printed, so nothing on it tells of the address's other registrations. The
calendar of all of an address's registrations is set up from a link mailed to the address
(or from the signed-in account page), so only the mailbox's owner ever sees its address.
Pages behind these links are sent with `Cache-Control: no-store` (eventsapp/security.py).
"""

from __future__ import annotations

import io

import segno
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from eventsapp.acknowledgements import acknowledge, back_to
from eventsapp.database import db, utcnow
from eventsapp.forms import ActionForm
from eventsapp.i18n import prefer_language
from eventsapp.models import AccessPurpose, Registration, RegistrationStatus
from eventsapp.public import bp
from eventsapp.public.forms import AddressChangeForm, QuestionForm
from eventsapp.ratelimits import client_limit, form_limits
from eventsapp.services import access_links, address_change, feedback, feeds
from eventsapp.services import registrations as rules
from eventsapp.tokens import checkin_code, spaced_code


def _registration_or_404(token: str) -> Registration:
    """The registration behind the link; its pages speak the registration's language
    unless the visitor chose another."""
    registration = rules.find_registration_by_token(token)
    if registration is None:
        abort(404)
    prefer_language(registration.language)
    return registration


def _can_cancel(registration: Registration) -> bool:
    return registration.is_active and utcnow() < registration.session.starts_at


def _can_change_address(registration: Registration) -> bool:
    return registration.is_active and utcnow() < registration.session.ends_at


def _checkin_code(registration: Registration) -> dict | None:
    """The QR code (SVG, drawn here from the code alone) and the code in words, for a
    confirmed place of a session that has not ended."""
    if (
        registration.status != RegistrationStatus.CONFIRMED
        or utcnow() >= registration.session.ends_at
    ):
        return None
    code = checkin_code(registration)
    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(
        buffer,
        kind="svg",
        scale=6,
        border=4,
        xmldecl=False,
        svgns=True,
        svgclass="qr",
        lineclass=None,
    )
    # segno's own markup of a code of 12 letters and digits: nothing in it comes from input.
    svg = Markup(buffer.getvalue().decode())  # noqa: S704
    return {"svg": svg, "code": spaced_code(code)}


def _question_form(registration: Registration, form: QuestionForm | None = None):
    """The form to send or change the question; None once it can no longer change."""
    if not rules.question_open(registration, now=utcnow()):
        return None
    if form is None:
        form = QuestionForm()
        form.question.data = registration.question
        form.question_named.data = registration.question_named
    return form


def _render_registration(
    registration: Registration,
    token: str,
    address_form: AddressChangeForm | None = None,
    question_form: QuestionForm | None = None,
):
    failed = any(form is not None and form.errors for form in (address_form, question_form))
    return render_template(
        "public/registration.html",
        registration=registration,
        session=registration.session,
        token=token,
        position=rules.waitlist_position(registration),
        can_cancel=_can_cancel(registration),
        form=ActionForm(),
        address_form=(address_form or AddressChangeForm())
        if _can_change_address(registration)
        else None,
        question_form=_question_form(registration, question_form),
        checkin=_checkin_code(registration),
        feedback_mails=feedback.wants_feedback_mail(registration.email),
    ), (422 if failed else 200)


@bp.get("/registrations/<token>")
def registration(token: str):
    return _render_registration(_registration_or_404(token), token)


@bp.post("/registrations/<token>/feedback-mails")
def registration_feedback_mails(token: str):
    """Whether the address gets asked for feedback after its dates (all of them)."""
    registration = _registration_or_404(token)
    if not ActionForm().validate_on_submit() or request.form.get("wanted") not in ("yes", "no"):
        abort(400)
    if request.form["wanted"] == "yes":
        feedback.allow_feedback_mail(registration.email)
        message = _("Erledigt: Nach Ihren Terminen bitten wir Sie wieder um Ihre Meinung.")
    else:
        feedback.stop_feedback_mail(registration.email)
        message = _("Erledigt: Sie bekommen keine Bitten um Rückmeldung mehr.")
    db.session.commit()
    acknowledge(message, "feedback-mails")
    return back_to(url_for("public.registration", token=token), "feedback-mails")


@bp.post("/registrations/<token>/question")
def registration_question(token: str):
    """Send, change or withdraw the question for the session (an empty text withdraws)."""
    registration = _registration_or_404(token)
    if not rules.question_open(registration, now=utcnow()):
        abort(404)
    form = QuestionForm()
    if not form.validate_on_submit():
        return _render_registration(registration, token, question_form=form)
    text = form.question.data or ""
    rules.set_question(registration, text, bool(form.question_named.data), now=utcnow())
    db.session.commit()
    acknowledge(
        _("Ihre Frage ist gespeichert.") if text else _("Ihre Frage ist zurückgezogen."),
        "question",
    )
    return back_to(url_for("public.registration", token=token), "question")


@bp.post("/registrations/<token>/address")
@form_limits("DATA_REQUEST")
def registration_address(token: str):
    """Ask to move the registration to another address: a link goes to that address, and
    only opening it there changes anything."""
    registration = _registration_or_404(token)
    if not _can_change_address(registration):
        abort(404)
    form = AddressChangeForm()
    valid = form.validate_on_submit()
    if valid and form.email.data == registration.email:
        form.email.errors.append(_("Das ist schon die Adresse dieser Anmeldung."))
        valid = False
    if not valid:
        return _render_registration(registration, token, form)
    address_change.request_change(registration, form.email.data, now=utcnow())
    db.session.commit()
    acknowledge(
        _(
            "Wir haben einen Link an %(email)s geschickt. Bitte öffnen Sie ihn dort und "
            "bestätigen Sie; bis dahin bleibt alles, wie es ist.",
            email=form.email.data,
        ),
        "address",
    )
    return back_to(url_for("public.registration", token=token), "address")


def _address_change_or_404(token: str):
    found = address_change.pending_change(token, now=utcnow())
    if found is None:
        abort(404)
    prefer_language(found[1].language)
    return found


@bp.route("/address/<token>", methods=["GET", "POST"])
def confirm_address(token: str):
    """GET shows the change and a button, POST makes it: mail scanners that follow links
    change nothing."""
    link, registration = _address_change_or_404(token)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            manage = address_change.confirm_change(link, registration, now=utcnow())
        except address_change.AddressTaken:
            db.session.rollback()
            return render_template(
                "public/address_confirm.html",
                registration=registration,
                session=registration.session,
                new_email=link.email,
                form=form,
                taken=True,
            ), 409
        db.session.commit()
        flash(
            _(
                "Die Adresse ist geändert. Der Link zu dieser Seite ist neu; wir haben ihn "
                "an die neue Adresse geschickt."
            ),
            "success",
        )
        return redirect(url_for("public.registration", token=manage), 303)
    return render_template(
        "public/address_confirm.html",
        registration=registration,
        session=registration.session,
        new_email=link.email,
        form=form,
        taken=False,
    )


@bp.post("/registrations/<token>/calendar")
@client_limit("CALENDAR_LINK")
def registration_calendar(token: str):
    """Mail the registration's address a link to its personal calendar."""
    registration = _registration_or_404(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    feeds.send_calendar_link(registration.email, registration.language, now=utcnow())
    db.session.commit()
    acknowledge(
        _(
            "Wir haben Ihnen einen Link zu Ihrem persönlichen Kalender geschickt. "
            "Bitte sehen Sie in Ihr Postfach."
        ),
        "calendar",
    )
    return back_to(url_for("public.registration", token=token), "calendar")


@bp.post("/registrations/<token>/cancel")
def cancel(token: str):
    registration = _registration_or_404(token)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    if request.form.get("confirmed") != "1":
        # The first step only asks (public/cancel_confirm.html); "Ja" posts `confirmed`.
        if not _can_cancel(registration):
            flash(_("Diese Anmeldung kann nicht mehr storniert werden."), "error")
            return redirect(url_for("public.registration", token=token), 303)
        return render_template(
            "public/cancel_confirm.html",
            registration=registration,
            session=registration.session,
            position=rules.waitlist_position(registration),
            action=url_for("public.cancel", token=token),
            yes_label=_("Ja, von der Warteliste streichen")
            if registration.status == "waitlisted"
            else _("Ja, stornieren"),
            back_url=url_for("public.registration", token=token),
            form=form,
        )
    try:
        rules.cancel_registration(registration, now=utcnow())
    except rules.RegistrationError:
        db.session.rollback()
        flash(_("Diese Anmeldung kann nicht mehr storniert werden."), "error")
    else:
        db.session.commit()
        flash(_("Ihre Anmeldung ist storniert. Eine Bestätigung ist unterwegs."), "success")
    return redirect(url_for("public.registration", token=token), 303)


def _calendar_email_or_404(token: str) -> str:
    link = access_links.find_link(AccessPurpose.CALENDAR, token, now=utcnow())
    if link is None:
        abort(404)
    return link.email


@bp.get("/my-calendar/<token>")
def my_calendar(token: str):
    email = _calendar_email_or_404(token)
    return render_template(
        "public/my_calendar.html",
        token=token,
        feed_url=feeds.personal_feed_url(email),
        hours=access_links.hours_valid(AccessPurpose.CALENDAR),
        form=ActionForm(),
    )


@bp.post("/my-calendar/<token>")
def my_calendar_update(token: str):
    """Set up the address's calendar feed, or give it a new address (old links stop)."""
    email = _calendar_email_or_404(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    if feeds.set_up_or_renew(email, now=utcnow(), language=get_locale().language):
        flash(_("Ihr persönlicher Kalender ist eingerichtet."), "success")
    else:
        flash(_("Ihr Kalender hat eine neue Adresse; die alte funktioniert nicht mehr."), "success")
    db.session.commit()
    return redirect(url_for("public.my_calendar", token=token), 303)
