"""Shared form machinery: BaseForm strips whitespace; NIK/KK fields validate without echoing.

Every message is lazy (translated at render time). A NIK or KK error message never contains
the number, and a refused field is re-rendered empty so the number is not echoed back either.
A number that passed is shown again (grouped by four) when the page comes back after another
field's error, so nobody types a correct number twice. A number the person gave earlier (a
saved answer, or the look-up of this browser) is offered masked, with a way to change it;
people on the filer's proven family card are offered by masked name. Either way the number
itself comes from the server, never from the page.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from werkzeug.datastructures import FileStorage
from wtforms import Field, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core import nik as niklib
from portal.wilayah import queries as wilayah

NIK_MESSAGES = {
    niklib.NIKError.EMPTY: _l("Enter the NIK, the 16-digit number on the KTP or the family card."),
    niklib.NIKError.NOT_DIGITS: _l("The NIK may only contain digits (spaces and dashes are fine)."),
    niklib.NIKError.LENGTH: _l("The NIK must be exactly 16 digits."),
    niklib.NIKError.REGION: _l(
        "The first 6 digits of the NIK are not a known kecamatan code. Check the number."
    ),
    niklib.NIKError.DATE: _l("Digits 7 to 12 of the NIK are not a valid date of birth."),
    niklib.NIKError.SERIAL: _l("The last 4 digits of the NIK cannot be 0000."),
}
KK_MESSAGES = {
    niklib.NIKError.EMPTY: _l(
        "Enter the No. KK, the 16-digit number at the top of the family card."
    ),
    niklib.NIKError.NOT_DIGITS: _l(
        "The No. KK may only contain digits (spaces and dashes are fine)."
    ),
    niklib.NIKError.LENGTH: _l("The No. KK must be exactly 16 digits."),
    niklib.NIKError.REGION: _l(
        "The first 6 digits of the No. KK are not a known kecamatan code. Check the number."
    ),
}


# Shown at the top of a form whose CSRF token expired or whose session was lost: the form is
# re-rendered with the answers it can keep, and sending it again works.
SESSION_EXPIRED = _l(
    "For your security, a form can only be sent for a few hours after it was opened, and this "
    "one had expired. Check your answers below and send it again."
)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _no_controls(value: Any) -> Any:
    """Control characters (NUL, escape, DEL...) are never typed into a form: they are dropped,
    so none reaches a page, a query or the database (PostgreSQL refuses NUL in text). Tabs and
    line breaks stay."""
    if isinstance(value, str) and not value.isprintable():
        return "".join(c for c in value if c in "\t\n\r" or unicodedata.category(c) != "Cc")
    return value


def _text_only(value: Any) -> Any:
    """A file sent in place of a text answer is no answer (never a crash in a validator)."""
    return None if isinstance(value, FileStorage) else value


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            own = unbound_field.kwargs.get("filters", [])
            if issubclass(unbound_field.field_class, FileField | MultipleFileField):
                return unbound_field.bind(form=form, filters=own, **options)
            filters = [_text_only, _no_controls, _strip, *own]
            return unbound_field.bind(form=form, filters=filters, **options)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        token = getattr(self, "csrf_token", None)
        if token is not None and token.errors:
            # Flask-WTF's messages are technical ("The CSRF token has expired."); the hidden
            # field has nothing to link to, so the message goes to the top of the form.
            token.errors = []
            self.form_errors.append(SESSION_EXPIRED)
        return bool(valid)


def grouped(number: str) -> str:
    """16 digits as on the card, by four: 3216 0145 0688 0002."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def masked_number(number: str) -> str:
    """A saved number shown to the person who gave it: 3216 •••• •••• 0002."""
    if len(number) != 16:
        return "•" * len(number)
    return f"{number[:4]} •••• •••• {number[-4:]}"


KEEP = "-keep"  # posted beside a kept number: "keep the one shown masked"
PICK = "-pick"  # posted by the list of people: the key of the one chosen, or OTHER
OTHER = "other"
PICK_MESSAGE = _l("Choose the person, or choose 'Someone else' and type their NIK.")
PICK_CONFLICT = _l(
    "You chose a person from the list and also typed a NIK. To use the NIK you typed, choose "
    "'Someone else'; otherwise clear the box."
)
KEPT_EXPIRED = _l("For your security, the number shown before is no longer kept. Type it again.")


@dataclass(frozen=True)
class Candidate:
    """A person the page offers by masked name. Only the key is in the page."""

    key: str
    label: object
    number: str


class _NumberField(StringField):
    """A 16-digit identity number. Keeps the normalised value in ``.number`` once valid.

    ``optional=True`` lets an empty field through (``.number`` stays None); the form decides
    in its own ``validate_<field>`` whether it was needed.

    A view may offer, before validation (portal/appeals/prefill.py):
    - ``kept``: a number given before, shown masked with a "Change" link; the page posts
      ``<name>-keep`` and the number is taken from ``kept`` again, never from the page;
    - ``candidates``: people to choose from by masked name; the page posts
      ``<name>-pick`` (a key, or "other" with the number typed in the box).
    """

    number: str | None = None
    kept: str | None = None
    kept_note: object = None
    change_url: str | None = None
    candidates: tuple[Candidate, ...] = ()
    pick_legend: object = None
    pick: str | None = None
    keep_posted = False
    posted = False

    def __init__(self, *args: Any, optional: bool = False, **kwargs: Any) -> None:
        self.optional = optional
        render_kw = {
            "inputmode": "numeric",
            "autocomplete": "off",
            "spellcheck": "false",
            "maxlength": "24",  # 16 digits plus separators people type
        }
        render_kw.update(kwargs.pop("render_kw", {}) or {})
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        super().process(formdata, data, extra_filters)
        self.posted = formdata is not None
        if formdata is not None:
            self.keep_posted = bool(formdata.get(self.name + KEEP))
            self.pick = formdata.get(self.name + PICK) or None

    def _value(self) -> str:
        # Only what was typed and passed is shown again (grouped, so the page holds no
        # 16-digit run): never a refused number, never a saved one (those are masked).
        if self.errors or not self.raw_data:
            return ""
        typed = niklib.normalise(self.raw_data[0] if isinstance(self.raw_data[0], str) else "")
        return grouped(typed) if len(typed) == 16 and typed.isascii() and typed.isdigit() else ""

    @property
    def kept_masked(self) -> str:
        return masked_number(self.kept or "")

    @property
    def kept_ends(self) -> tuple[str, str]:
        """The digits the masked number shows, for screen readers (not "bullet bullet")."""
        kept = self.kept or ""
        return kept[:4], kept[-4:]

    @property
    def show_kept(self) -> bool:
        """Show the kept number masked (not a box): first visit, or kept when last sent."""
        return bool(self.kept) and not self.errors and (not self.posted or self.keep_posted)

    def _given(self) -> str | None:
        """The number chosen without typing it (a person from the list, or the kept one)."""
        if self.candidates and self.pick and self.pick != OTHER:
            chosen = next((c for c in self.candidates if c.key == self.pick), None)
            if chosen is None:
                raise ValidationError(CHOICE_MESSAGE)
            if self.data:  # never silently drop what was typed, nor what was chosen
                raise ValidationError(PICK_CONFLICT)
            return chosen.number
        if self.keep_posted and not self.data:
            if not self.kept:
                raise ValidationError(KEPT_EXPIRED)
            return self.kept
        if self.candidates and not self.pick and not self.data and not self.optional:
            raise ValidationError(PICK_MESSAGE)
        return None

    def _refuse(self, message: Any) -> None:
        raise ValidationError(message)


class NIKField(_NumberField):
    def pre_validate(self, form: Any) -> None:
        given = self._given()
        if given:
            self.number = given
            return
        if self.optional and not self.data:
            return
        try:
            self.number, _info = niklib.parse_nik(
                self.data, region_exists=wilayah.kecamatan_exists, today=date.today()
            )
        except niklib.InvalidNIK as exc:
            self._refuse(NIK_MESSAGES[exc.reason])


class KKField(_NumberField):
    def pre_validate(self, form: Any) -> None:
        given = self._given()
        if given:
            self.number = given
            return
        if self.optional and not self.data:
            return
        try:
            self.number = niklib.parse_kk(self.data, region_exists=wilayah.kecamatan_exists)
        except niklib.InvalidNIK as exc:
            self._refuse(KK_MESSAGES[exc.reason])


class HoneypotMixin:
    """A field people never see (hidden by CSS, labelled 'leave empty'); bots fill it."""

    website = StringField(
        _l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )

    def honeypot_filled(self) -> bool:
        return bool(self.website.data)


CHOICE_MESSAGE = _l("Choose one of the options shown.")


def photo_limit_mb() -> str:
    """The configured photo size limit for messages, e.g. "5" or "0.5"."""
    from flask import current_app

    mb = int(current_app.config["PHOTO_MAX_BYTES"]) / (1024 * 1024)
    return f"{mb:.0f}" if mb >= 1 else f"{mb:.1f}"


class PhotoHint:
    """A lazy field description that names the configured size limit."""

    def __str__(self) -> str:
        from flask_babel import gettext

        return gettext(
            "Up to 3 photos from your phone's camera or gallery, at most %(mb)s MB each.",
            mb=photo_limit_mb(),
        )

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __bool__(self) -> bool:
        return True


def options(pairs: Any) -> list[SelectChoice]:
    """Choices as WTForms 3.3+ wants them (tuples are deprecated): [(value, label), ...]."""
    return [SelectChoice(value, label) for value, label in pairs]


def _values(field: Any) -> set[str]:
    return {str(c.value if isinstance(c, SelectChoice) else c[0]) for c in field.choices or []}


class RadioField(wtforms.RadioField):
    """Choice fields whose "not a valid choice" message is ours (translated, plain)."""

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and str(self.data) not in _values(self):
            raise ValidationError(CHOICE_MESSAGE)


class SelectField(wtforms.SelectField):
    def pre_validate(self, form: Any) -> None:
        if self.data and str(self.data) not in _values(self):
            raise ValidationError(CHOICE_MESSAGE)


class MultiCheckboxField(wtforms.SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        if any(str(d) not in _values(self) for d in self.data or []):
            raise ValidationError(CHOICE_MESSAGE)
