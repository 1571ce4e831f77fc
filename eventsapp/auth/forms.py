"""Sign-in and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from eventsapp.forms import MultiCheckboxField, email_field, options
from eventsapp.services.accounts import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = email_field(
        _l("E-Mail-Adresse"),
        required_message=_l("Bitte geben Sie Ihre E-Mail-Adresse an."),
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Passwort"),
        validators=[
            DataRequired(_l("Bitte geben Sie Ihr Passwort an.")),
            Length(max=1000, message=_l("Das Passwort ist zu lang.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordResetForm(FlaskForm):
    # The hint only: the link goes to an account's address, whatever its domain says now.
    email = email_field(
        _l("E-Mail-Adresse"),
        required_message=_l("Bitte geben Sie Ihre E-Mail-Adresse an."),
        typo_hint=True,
        render_kw={"autocomplete": "username"},
    )


def _new_password_field(label: object) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(_l("Bitte geben Sie ein Passwort an.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1000,
                message=_l("Das Passwort muss mindestens %(min)d Zeichen lang sein."),
            ),
        ],
        description=_l(
            "Mindestens %(min)d Zeichen. Ein Satz aus mehreren Wörtern ist gut.",
            min=MIN_PASSWORD_LENGTH,
        ),
        render_kw={"autocomplete": "new-password"},
    )


class SetPasswordForm(FlaskForm):
    password = _new_password_field(_l("Neues Passwort"))
    confirm = PasswordField(
        _l("Neues Passwort wiederholen"),
        validators=[
            EqualTo("password", message=_l("Die beiden Passwörter stimmen nicht überein."))
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        _l("Bisheriges Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr bisheriges Passwort an."))],
        render_kw={"autocomplete": "current-password"},
    )


class FollowForm(FlaskForm):
    """The formats whose new dates the account holder wants to hear about."""

    formats = MultiCheckboxField(_l("Formate"), coerce=int, validate_choice=True)

    def __init__(
        self, *args: object, format_choices: list[tuple[int, str]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.formats.choices = options(format_choices)
