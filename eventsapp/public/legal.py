"""Privacy, imprint, accessibility: the pages a public body owes its visitors, and the
self-service for one's own data (DSGVO Art. 15 and 17)."""

from __future__ import annotations

import json

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from eventsapp.database import db, utcnow
from eventsapp.forms import ActionForm
from eventsapp.i18n import page_language
from eventsapp.mail.outbox import enqueue_mail
from eventsapp.public import bp
from eventsapp.public.forms import DataRequestForm, FeedbackForm
from eventsapp.ratelimits import client_limit, form_limits
from eventsapp.services import personal_data


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html", form=DataRequestForm())


@bp.post("/privacy/my-data")
@form_limits("DATA_REQUEST")
def request_my_data():
    form = DataRequestForm()
    if not form.validate_on_submit():
        return render_template("public/privacy.html", form=form), 422
    personal_data.send_data_link(form.email.data, page_language(), now=utcnow())
    db.session.commit()
    flash(
        _(
            "Wenn wir Daten zu dieser Adresse haben, ist ein Link dorthin unterwegs. "
            "Bitte sehen Sie in Ihr Postfach."
        ),
        "success",
    )
    return redirect(url_for("public.privacy") + "#my-data", 303)


def _email_or_404(token: str) -> str:
    email = personal_data.email_from_token(token, now=utcnow())
    if email is None:
        abort(404)
    return email


@bp.get("/my-data/<token>")
def my_data(token: str):
    email = _email_or_404(token)
    return render_template(
        "public/my_data.html", data=personal_data.export(email), token=token, form=ActionForm()
    )


@bp.get("/my-data/<token>.json")
def my_data_download(token: str):
    data = personal_data.export(_email_or_404(token))
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="meine-daten.json"',
        },
    )


@bp.post("/my-data/<token>/erase")
def erase_my_data(token: str):
    email = _email_or_404(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    personal_data.erase(email, now=utcnow())
    db.session.commit()
    return render_template("public/erased.html")


@bp.get("/imprint")
def imprint():
    return render_template("public/imprint.html")


@bp.route("/accessibility", methods=["GET", "POST"])
@client_limit("FEEDBACK")
def accessibility():
    form = FeedbackForm()
    if form.is_submitted() and form.is_robot():
        return redirect(url_for("public.accessibility"), 303)
    if form.validate_on_submit():
        now = utcnow()
        reply_to = form.email.data or ""
        enqueue_mail(
            dedupe_key=f"accessibility-feedback:{now:%Y%m%d%H%M%S%f}",
            recipient=current_app.config["EVENTSAPP_ACCESSIBILITY_CONTACT"],
            language=current_app.config["BABEL_DEFAULT_LOCALE"],
            template="accessibility_feedback",
            subject=_l("Rückmeldung zur Barrierefreiheit"),
            context={"message": form.message.data, "reply_to": reply_to},
            now=now,
            headers={"Reply-To": reply_to} if reply_to else None,
        )
        db.session.commit()
        flash(
            _("Danke für Ihre Rückmeldung. Wir melden uns, wenn Sie eine Adresse angegeben haben."),
            "success",
        )
        return redirect(url_for("public.accessibility"), 303)
    return render_template("public/accessibility.html", form=form), 422 if form.errors else 200


@bp.get("/easy-language")
def easy_language():
    return render_template("public/easy_language.html")
