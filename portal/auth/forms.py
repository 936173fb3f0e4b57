"""Staff sign-in and enrolment forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.forms import BaseForm

CODE_HINT = _l("The 6-digit code from your authenticator app.")


def _code_field() -> StringField:
    return StringField(
        _l("Authentication code"),
        description=CODE_HINT,
        validators=[DataRequired(message=_l("Enter the 6-digit code."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"},
    )


class LoginForm(BaseForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(message=_l("Enter your e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    code = _code_field()


class EnrolForm(BaseForm):
    password = PasswordField(
        _l("New password"),
        description=_l("A few unrelated words make a good password."),
        validators=[DataRequired(message=_l("Choose a password.")), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
    code = _code_field()


class EmptyForm(BaseForm):
    """Only the CSRF token: for buttons that change something (log out, revoke)."""
