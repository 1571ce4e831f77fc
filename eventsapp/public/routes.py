"""Public pages: the programme, a session with its registration form, the manage page."""

from __future__ import annotations

from dataclasses import replace
from typing import NoReturn

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from eventsapp.acknowledgements import acknowledge, back_to
from eventsapp.database import db, finish_reading, reading, utcnow
from eventsapp.extensions import csrf
from eventsapp.forms import ActionForm
from eventsapp.mail.delivery import outbox_health
from eventsapp.models import Session
from eventsapp.pagecache import cached_for_visitors, valid_until
from eventsapp.public import bp
from eventsapp.public.forms import ColleagueForm, RegistrationForm, SubscribeForm
from eventsapp.public.structured_data import session_event
from eventsapp.ratelimits import form_limits
from eventsapp.services import partner_registrations as partners
from eventsapp.services import registrations as rules
from eventsapp.services import sessions as listing
from eventsapp.services import subscriptions
from eventsapp.tokens import manage_token


def _viewer():
    return current_user if current_user.is_authenticated else None


def _not_visible() -> NoReturn:
    """A page the visitor may not see. Someone signed in gets 404. An anonymous visitor may
    be a partner member following a partners-only link from a mail: they are asked to sign
    in and come back here. Every page anonymous visitors cannot see gets that same answer,
    whether it is for partners, a draft or none at all, so it tells a stranger nothing."""
    if _viewer() is not None or request.method != "GET":
        abort(404)
    flash(
        _(
            "Diese Seite ist nicht öffentlich. Mitglieder der Partnerorganisationen sehen "
            "sie, wenn sie mit ihrem Konto eingeloggt sind."
        ),
        "info",
    )
    abort(redirect(url_for("auth.login", next=request.path)))


def _visible_session_or_404(session_id: int) -> Session:
    session = listing.get_visible_session(session_id, _viewer())
    if session is None:
        _not_visible()
    return session


def _partner_organisation_id() -> int | None:
    viewer = _viewer()
    return viewer.organisation_id if viewer is not None and viewer.is_partner else None


def _changes_at(sessions: list[Session]) -> None:
    """The moments these sessions' pages change by themselves (for the page cache)."""
    for session in sessions:
        valid_until(
            session.registration_opens_at,
            session.registration_deadline,
            session.starts_at,
            session.ends_at,
        )


def _upcoming(**filters) -> tuple[list[Session], dict[int, rules.SeatCounts]]:
    """The upcoming sessions the visitor may see (filtered by format or host), with seats."""
    now = utcnow()
    sessions = listing.upcoming_sessions(now=now, viewer=_viewer(), **filters)
    _changes_at(sessions)
    return sessions, rules.seat_counts_for(sessions, now=now)


def _colleague_form() -> ColleagueForm | None:
    """The form a partner member registers colleagues with; None for everyone else."""
    viewer = _viewer()
    if viewer is None or not viewer.is_partner or viewer.organisation is None:
        return None
    form = ColleagueForm(prefix="colleague")  # its fields' ids differ from the form above
    if not form.is_submitted():
        form.language.data = viewer.organisation.language or form.language.data
    return form


def _render_session(
    session: Session,
    form: RegistrationForm,
    status: int = 200,
    colleague_form: ColleagueForm | None = None,
):
    now = utcnow()
    _changes_at([session])
    valid_until(*(c.release_at for c in session.contingents))  # reserved seats turn public
    partner_id = _partner_organisation_id()
    counts = rules.seat_counts(session, now=now)
    own_left = rules.seat_ledger(session, now=now).left_for(partner_id) if partner_id else None
    return render_template(
        "public/session.html",
        session=session,
        form=form,
        colleague_form=colleague_form or _colleague_form(),
        counts=counts,
        seats_for_me=counts.left if own_left is None else own_left,
        contingent_left=(own_left - counts.left) if own_left is not None else 0,
        is_open=rules.registration_open(session, now=now),
        has_started=now >= session.starts_at,
        structured_data=session_event(session, counts, now=now),
    ), status


def _registration_form() -> RegistrationForm:
    form = RegistrationForm()
    viewer = _viewer()
    # Filled in with the viewer's own name and address, unless this very form was sent.
    if viewer is not None and request.form.get("name") is None:
        form.name.data, form.email.data = viewer.name, viewer.email
    return form


def _applicant(form: RegistrationForm) -> rules.Applicant:
    """A signed-in partner member registering themselves may use their contingent."""
    applicant = form.applicant()
    viewer = _viewer()
    if viewer is not None and viewer.email == applicant.email:
        return replace(
            rules.Applicant.from_user(viewer, language=applicant.language),
            question=applicant.question,
            question_named=applicant.question_named,
        )
    return applicant


@bp.get("/")
@cached_for_visitors
def home():
    sessions, counts = _upcoming()
    return render_template(
        "public/home.html", groups=listing.group_by_format(sessions), counts=counts
    )


def _visible_format_or_404(slug: str):
    format = listing.get_visible_format(slug, _viewer())
    if format is None:
        _not_visible()
    return format


def _render_format(format, subscribe_form: SubscribeForm, status: int = 200):
    sessions, counts = _upcoming(format=format)
    return render_template(
        "public/format.html",
        format=format,
        sessions=sessions,
        counts=counts,
        subscribe_form=subscribe_form,
        consent_text=subscriptions.CONSENT_TEXT,
    ), status


@bp.get("/formats/<slug>")
@cached_for_visitors
def format_detail(slug: str):
    return _render_format(_visible_format_or_404(slug), SubscribeForm())


@bp.post("/formats/<slug>/subscribe")
@form_limits("SUBSCRIBE")
@csrf.exempt  # checked by the form itself, so an expired token keeps what was typed
def subscribe(slug: str):
    format = _visible_format_or_404(slug)
    form = SubscribeForm()
    if form.is_robot():
        return redirect(url_for("public.format_detail", slug=format.slug), 303)
    if not form.validate_on_submit():
        return _render_format(format, form, _form_status(form))
    subscriptions.request_subscription(format, form.email.data, form.language.data, now=utcnow())
    db.session.commit()
    # The same answer for every address: the page reveals nobody's subscriptions.
    acknowledge(
        _(
            "Fast geschafft: Bitte bestätigen Sie mit dem Link in der E-Mail, die wir Ihnen "
            "gerade geschickt haben."
        ),
        "subscribe",
    )
    return back_to(url_for("public.format_detail", slug=format.slug), "subscribe")


def _subscription_or_404(token: str):
    subscription = subscriptions.find_by_token(token)
    if subscription is None:
        abort(404)
    return subscription


@bp.route("/subscriptions/<token>/confirm", methods=["GET", "POST"])
def confirm_subscription(token: str):
    """GET shows a button, POST confirms: mail scanners that follow links confirm nothing."""
    subscription = _subscription_or_404(token)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        subscriptions.confirm(subscription, now=utcnow())
        db.session.commit()
    return render_template(
        "public/subscription.html",
        subscription=subscription,
        token=token,
        form=form,
        action="confirm",
        consent_text=subscriptions.CONSENT_TEXT,
    )


@bp.route("/subscriptions/<token>/unsubscribe", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: mail providers POST without a form; the token is the key
def unsubscribe(token: str):
    subscription = _subscription_or_404(token)
    if request.method == "POST":
        subscriptions.unsubscribe(subscription, now=utcnow())
        db.session.commit()
    return render_template(
        "public/subscription.html",
        subscription=subscription,
        token=token,
        form=ActionForm(),
        action="unsubscribe",
    )


@bp.get("/organisations/<slug>")
@cached_for_visitors
def organisation_detail(slug: str):
    organisation = listing.get_organisation(slug)
    if organisation is None:
        abort(404)
    sessions, counts = _upcoming(host=organisation)
    return render_template(
        "public/organisation.html", organisation=organisation, sessions=sessions, counts=counts
    )


@bp.get("/sessions/<int:session_id>")
@cached_for_visitors
def session_detail(session_id: int):
    return _render_session(_visible_session_or_404(session_id), _registration_form())


def _form_status(form) -> int:
    """400 when only the form's CSRF token failed (expired, say), else 422."""
    return 400 if form.csrf_token.errors else 422


@bp.post("/sessions/<int:session_id>/register")
@form_limits("REGISTER")
@csrf.exempt  # checked by the form itself, so an expired token keeps what was typed
def register(session_id: int):
    """Take a seat or a waitlist place. The answer is the same page whether or not the
    address was registered already; what differs (and the personal link) goes to the
    mailbox. Only a signed-in person registering their own address goes straight to it."""
    # Checking the form only reads, so on SQLite it takes no write lock: another
    # registration may hold the lock meanwhile. Whether the visitor may see the session is
    # checked under the lock, where the session is read anyway; the session is loaded as an
    # object only to show the form again.
    with reading():
        form = RegistrationForm()
        if form.is_robot():
            return redirect(url_for("public.registration_sent", session_id=session_id), 303)
        if not form.validate_on_submit():
            return _render_session(_visible_session_or_404(session_id), form, _form_status(form))
        applicant = _applicant(form)
        audience = listing.audience_of(_viewer()).visibilities
    finish_reading()  # take_place takes the lock
    now = utcnow()
    own_address = applicant.user_id is not None
    try:
        placement = rules.take_place(session_id, applicant, now=now, audience=audience)
    except rules.NoSuchSession:
        db.session.rollback()
        abort(404)
    except rules.AlreadyRegistered as error:
        rules.resend_manage_link(
            error.registration_id, applicant.email, applicant.language, now=now
        )
        db.session.commit()
        if own_address:
            flash(_("Sie sind für diesen Termin schon angemeldet."), "success")
            return redirect(
                url_for("public.registration", token=manage_token(error.registration)), 303
            )
    except rules.RegistrationClosed:
        db.session.rollback()
        flash(_("Für diesen Termin ist keine Anmeldung mehr möglich."), "error")
        return _render_session(_visible_session_or_404(session_id), form, 409)
    else:
        db.session.commit()
        if own_address:
            return redirect(url_for("public.registration", token=manage_token(placement)), 303)
    return redirect(url_for("public.registration_sent", session_id=session_id), 303)


@bp.post("/sessions/<int:session_id>/colleagues")
@form_limits("REGISTER")
def register_colleague(session_id: int):
    """A partner member registers a colleague: the colleague gets the mail and their own
    link; a seat from the organisation's contingent first. The answer is the same whether
    or not the address was registered already."""
    session = _visible_session_or_404(session_id)
    form = _colleague_form()
    if form is None:
        abort(404)
    if not form.validate_on_submit():
        return _render_session(
            session, _registration_form(), _form_status(form), colleague_form=form
        )
    applicant = partners.colleague_applicant(
        current_user, form.name.data, form.email.data, form.language.data
    )
    try:
        partners.register_colleague(session.id, current_user, applicant, now=utcnow())
    except rules.NoSuchSession:
        db.session.rollback()
        abort(404)
    except rules.RegistrationClosed:
        db.session.rollback()
        flash(_("Für diesen Termin ist keine Anmeldung mehr möglich."), "error")
        return _render_session(session, _registration_form(), 409, colleague_form=form)
    db.session.commit()
    acknowledge(
        _(
            "Wir haben %(name)s eine E-Mail mit dem eigenen Link geschickt. Sie können die "
            "nächste Person eintragen.",
            name=applicant.name,
        ),
        "colleagues",
    )
    return back_to(url_for("public.session_detail", session_id=session.id), "colleagues")


@bp.get("/sessions/<int:session_id>/registered")
def registration_sent(session_id: int):
    """ "Look in your mailbox": the same page for every registration of this session."""
    return render_template(
        "public/registration_sent.html", session=_visible_session_or_404(session_id)
    )


@bp.get("/healthz")
def healthz():
    """For load balancers and monitoring: the database answers; how much mail waits, and
    how long the oldest due mail has waited (a stuck worker shows here first)."""
    try:
        backlog, oldest = outbox_health(now=utcnow())
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    return {
        "status": "ok",
        "database": "ok",
        "outbox_backlog": backlog,
        "oldest_due_seconds": oldest,
    }
