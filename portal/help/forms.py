"""The staff form for a Dinas Sosial contact. Field rules are the data file's
(portal.help.reader), with translated messages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.forms import BaseForm
from portal.help.reader import MAX_LENGTH, email_problem, phone_problem, text_problem

TOO_LONG = _l("Write at most %(max)d characters.")
ONE_LINE = _l("Write it on one line, without special characters.")
PHONE = _l(
    "Write a number to call: digits, spaces and dashes, with 6 to 15 digits (08..., +62...)."
)


def _length(field: str) -> Length:
    return Length(max=MAX_LENGTH[field], message=TOO_LONG)


def _one_line(_form: Any, field: Any) -> None:
    if field.data and text_problem(field.data):
        raise ValidationError(ONE_LINE)


def _phone(_form: Any, field: Any) -> None:
    if field.data and phone_problem(field.data):
        raise ValidationError(PHONE)


class ContactForm(BaseForm):
    office_name = StringField(
        _l("Name of the office"),
        description=_l('As people know it. Empty: "Dinas Sosial" and the name of the area.'),
        validators=[_length("office_name"), _one_line],
    )
    address = TextAreaField(
        _l("Address"),
        description=_l("Street address people can walk to."),
        validators=[
            DataRequired(message=_l("Enter the address of the office.")),
            _length("address"),
        ],
    )
    hours = StringField(
        _l("Opening hours"),
        description=_l("In words, e.g. Senin-Jumat 08.00-15.00 WIB."),
        validators=[_length("hours"), _one_line],
    )
    phone = StringField(
        _l("Phone"),
        validators=[_length("phone"), _phone],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    whatsapp = StringField(
        _l("WhatsApp"),
        validators=[_length("whatsapp"), _phone],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    email = StringField(
        _l("E-mail"),
        validators=[_length("email")],
        render_kw={"inputmode": "email", "autocomplete": "off"},
    )

    def validate_address(self, field: Any) -> None:
        # one line in the table and on a printed receipt: line breaks become spaces
        if field.data:
            field.data = " ".join(field.data.split())

    def validate_email(self, field: Any) -> None:
        if field.data and email_problem(field.data):
            raise ValidationError(_l("Write an e-mail address such as name@example.go.id."))

    def values(self) -> dict[str, str | None]:
        return {
            name: (getattr(self, name).data or None)
            for name in ("office_name", "address", "phone", "whatsapp", "email", "hours")
        }
