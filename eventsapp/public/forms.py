"""Forms of the public pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from eventsapp.feedback_items import ITEM_BY_KEY, ITEMS
from eventsapp.forms import email_field, no_control_characters, options, plain_text, strip
from eventsapp.i18n import LANGUAGE_NAMES, available_languages, page_language
from eventsapp.services.feedback import TEXT_LIMIT
from eventsapp.services.registrations import Applicant


class HoneypotMixin:
    """A field people never see (hidden by CSS) but form-filling robots fill in: a filled
    one is answered like a success and writes nothing. No third-party captcha needed."""

    website = StringField(_l("Website"), render_kw={"autocomplete": "off", "tabindex": "-1"})

    def is_robot(self) -> bool:
        return bool(self.website.data)


class MailLanguageMixin:
    """The language a person's mails are written in; the page's language unless changed."""

    language = SelectField(_l("Sprache der E-Mails"), validate_choice=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = options(
            (code, LANGUAGE_NAMES[code]) for code in available_languages()
        )
        if not self.language.data:
            self.language.data = page_language()
        self.language.invalid_choice_message = _l("Bitte wählen Sie eine Sprache aus der Liste.")


def name_field(required_message: object, autocomplete: str = "name") -> StringField:
    """The name of the person a registration is for."""
    return StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(required_message),
            Length(max=120, message=_l("Der Name darf höchstens %(max)d Zeichen lang sein.")),
            no_control_characters,
        ],
        render_kw={"autocomplete": autocomplete, "maxlength": 120},
    )


QUESTION_LIMIT = 500


class QuestionMixin:
    """An optional question or topic for the session, sent ahead to the organisers."""

    question = TextAreaField(
        _l("Ihre Frage oder Ihr Thema für diesen Termin (freiwillig)"),
        filters=[strip],
        validators=[
            Length(
                max=QUESTION_LIMIT,
                message=_l("Bitte kürzen Sie auf höchstens %(max)d Zeichen."),
            ),
            plain_text,
        ],
        description=_l(
            "Was möchten Sie fragen oder besprechen? Das Team sieht es vorab, ohne Ihren "
            "Namen. Bitte nennen Sie keine anderen Personen."
        ),
        render_kw={"rows": 3, "maxlength": QUESTION_LIMIT},
    )
    question_named = BooleanField(_l("Sie dürfen meinen Namen zu meiner Frage nennen."))


class RegistrationForm(HoneypotMixin, MailLanguageMixin, QuestionMixin, FlaskForm):
    name = name_field(_l("Bitte geben Sie Ihren Namen an."))
    email = email_field(
        _l("E-Mail-Adresse"),
        required_message=_l("Bitte geben Sie Ihre E-Mail-Adresse an."),
        typo_hint=True,
        check_domain=True,
        description=_l("Dorthin schicken wir die Bestätigung und Ihren Link zum Stornieren."),
        render_kw={"autocomplete": "email", "maxlength": 254},
    )
    organisation = StringField(
        _l("Organisation (freiwillig)"),
        filters=[strip],
        validators=[
            Length(max=200, message=_l("Bitte kürzen Sie auf höchstens %(max)d Zeichen.")),
            no_control_characters,
        ],
        render_kw={"autocomplete": "organization", "maxlength": 200},
    )
    consent = BooleanField(
        _l(
            "Ich bin einverstanden, dass Name und E-Mail-Adresse für diese Anmeldung "
            "gespeichert werden."
        ),
        validators=[InputRequired(_l("Ohne Ihr Einverständnis können wir Sie nicht anmelden."))],
    )

    def applicant(self) -> Applicant:
        return Applicant(
            name=self.name.data,
            email=self.email.data,
            organisation_name=self.organisation.data or "",
            language=self.language.data,
            question=self.question.data or "",
            question_named=bool(self.question_named.data),
        )


class ColleagueForm(MailLanguageMixin, FlaskForm):
    """A partner member registers a colleague into the organisation's contingent."""

    name = name_field(_l("Bitte geben Sie den Namen an."), autocomplete="off")
    email = email_field(
        _l("E-Mail-Adresse"),
        required_message=_l("Bitte geben Sie die E-Mail-Adresse an."),
        typo_hint=True,
        check_domain=True,
        description=_l("Dorthin geht die Bestätigung mit dem eigenen Link zum Stornieren."),
        render_kw={"autocomplete": "off", "maxlength": 254},
    )
    agreed = BooleanField(
        _l("Die Person weiß von der Anmeldung und ist einverstanden."),
        validators=[
            InputRequired(_l("Bitte melden Sie nur Personen an, die davon wissen und zustimmen."))
        ],
    )


class QuestionForm(QuestionMixin, FlaskForm):
    """Send, change or withdraw the question on the manage page."""


class SubscribeForm(HoneypotMixin, MailLanguageMixin, FlaskForm):
    """Follow a format's new dates by email (double opt-in)."""

    email = email_field(
        _l("E-Mail-Adresse"),
        required_message=_l("Bitte geben Sie Ihre E-Mail-Adresse an."),
        typo_hint=True,
        check_domain=True,
        render_kw={"autocomplete": "email"},
    )


class AddressChangeForm(FlaskForm):
    """Correct a registration's address (confirmed by a link mailed to the new one)."""

    email = email_field(
        _l("Neue E-Mail-Adresse"),
        required_message=_l("Bitte geben Sie die neue E-Mail-Adresse an."),
        typo_hint=True,
        check_domain=True,
        description=_l(
            "Wir schicken einen Link an die neue Adresse. Erst wenn Sie ihn öffnen und "
            "bestätigen, ändert sich die Adresse der Anmeldung."
        ),
        render_kw={"autocomplete": "email", "maxlength": 254},
    )


class DataRequestForm(FlaskForm):
    """Ask for a link to see, download or erase one's data."""

    email = email_field(
        _l("E-Mail-Adresse"),
        required_message=_l("Bitte geben Sie Ihre E-Mail-Adresse an."),
        typo_hint=True,
        check_domain=True,
        render_kw={"autocomplete": "email"},
    )


class FeedbackForm(HoneypotMixin, FlaskForm):
    """Report a barrier (Erklärung zur Barrierefreiheit)."""

    message = TextAreaField(
        _l("Was funktioniert nicht?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Bitte beschreiben Sie kurz, was nicht funktioniert.")),
            Length(max=5000, message=_l("Bitte höchstens %(max)d Zeichen.")),
            plain_text,
        ],
        render_kw={"rows": 6},
    )
    email = email_field(
        _l("E-Mail-Adresse für eine Antwort (freiwillig)"),
        typo_hint=True,
        check_domain=True,
        render_kw={"autocomplete": "email"},
    )


def _score(value: object) -> int | None:
    """A radio button's value as the answer it stands for; None when left out."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # refused by the AnyOf below


def _item_field(key: str) -> RadioField:
    """One question of eventsapp/feedback_items.py as radio buttons; it may be left out."""
    item = ITEM_BY_KEY[key]
    return RadioField(
        item.text,
        choices=options(item.scale.items()),
        coerce=_score,
        validate_choice=False,
        validators=[
            Optional(),
            AnyOf(
                list(item.scale),
                message=_l("Bitte wählen Sie eine der Antworten oder lassen Sie die Frage aus."),
            ),
        ],
    )


_NO_NAMES = _l("Bitte schreiben Sie keine Namen und nichts, woran man Sie oder andere erkennt.")


def _free_text(label: object) -> TextAreaField:
    return TextAreaField(
        label,
        filters=[strip],
        validators=[
            Length(max=TEXT_LIMIT, message=_l("Bitte höchstens %(max)d Zeichen.")),
            plain_text,
        ],
        description=_NO_NAMES,
        render_kw={"rows": 4, "maxlength": TEXT_LIMIT},
    )


class SessionFeedbackForm(FlaskForm):
    """The anonymous feedback after a session. Every question may be left out."""

    respect = _item_field("respect")
    fair = _item_field("fair")
    explain = _item_field("explain")
    learned = _item_field("learned")
    recommend = _item_field("recommend")
    topics = _free_text(_l("Worüber sollten wir beim nächsten Mal sprechen? (freiwillig)"))
    other = _free_text(_l("Möchten Sie uns sonst noch etwas sagen? (freiwillig)"))

    def scores(self) -> dict[str, int | None]:
        return {item.key: self[item.key].data for item in ITEMS}
