"""Deciding whether a feedback response's free texts may be shown, and what became of a
released topic suggestion."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import Length, ValidationError

from eventsapp.forms import CHOICE_MESSAGES, RequiredWhen, date_field, options, plain_text, strip


class TextsDecisionForm(FlaskForm):
    """One per response on the page: `prefix` keeps the fields' ids apart."""

    decision = RadioField(
        **CHOICE_MESSAGES,
        label=_l("Entscheidung"),
        choices=options(
            [
                ("released", _l("zeigen (für Berichte und Partner freigeben)")),
                ("hidden", _l("nicht zeigen")),
            ]
        ),
    )
    reason = TextAreaField(
        _l("Begründung"),
        filters=[strip],
        validators=[Length(max=500, message=_l("Bitte höchstens %(max)d Zeichen.")), plain_text],
        description=_l("Wird mit der Entscheidung gespeichert. Beim Nicht-Zeigen erforderlich."),
        render_kw={"rows": 2, "maxlength": 500},
    )

    def validate_reason(self, field: TextAreaField) -> None:
        if self.decision.data == "hidden" and not field.data:
            raise ValidationError(_l("Bitte begründen Sie, warum der Text nicht gezeigt wird."))


class TopicStatusForm(FlaskForm):
    """What became of a released topic: partners read it in the reports."""

    status = RadioField(
        **CHOICE_MESSAGES,
        label=_l("Was daraus wurde"),
        choices=options(
            [
                ("open", _l("noch offen")),
                ("taken_up", _l("aufgegriffen am …")),
                ("not_now", _l("jetzt nicht, weil …")),
            ]
        ),
    )
    taken_up_on = date_field(
        _l("Aufgegriffen am"),
        RequiredWhen(
            lambda form: form.status.data == "taken_up",
            _l("Bitte geben Sie an, wann das Thema aufgegriffen wurde."),
        ),
    )
    note = TextAreaField(
        _l("Warum jetzt nicht"),
        filters=[strip],
        validators=[
            RequiredWhen(
                lambda form: form.status.data == "not_now",
                _l("Bitte schreiben Sie, warum das Thema jetzt nicht aufgegriffen wird."),
            ),
            Length(max=500, message=_l("Bitte höchstens %(max)d Zeichen.")),
            plain_text,
        ],
        description=_l("Die Partnerorganisationen lesen diesen Satz im Bericht."),
        render_kw={"rows": 2, "maxlength": 500},
    )
