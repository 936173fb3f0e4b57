"""One short form per question page (GOV.UK pattern: one topic per page)."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.appeals.reasons import CONDITIONS, PROPOSABLE_PROGRAMS, Kind, for_kind
from portal.forms import (
    BaseForm,
    HoneypotMixin,
    KKField,
    MultiCheckboxField,
    NIKField,
    PhotoHint,
    RadioField,
    SelectField,
    options,
)
from portal.lookup.labels import PROGRAM_NAMES

NOTE_MAX = 2000
ADDRESS_MAX = 200
PHONE = re.compile(r"(?:\+?62|0)8\d{7,12}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}")


class ReasonForm(BaseForm):
    reason = RadioField(
        _l("What is it about?"),
        validators=[InputRequired(message=_l("Choose what your case is about."))],
    )

    def __init__(self, kind: Kind, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = options((r.code, r.title) for r in for_kind(kind))
        self.hints = {r.code: r.hint for r in for_kind(kind)}


class FilerForm(HoneypotMixin, BaseForm):
    nik = NIKField(_l("Your NIK"), description=_l("16 digits, on your KTP and your family card."))
    no_kk = KKField(_l("Your No. KK"), description=_l("16 digits, at the top of your family card."))


class SubjectForm(BaseForm):
    whose = RadioField(
        _l("Whose data is it about?"),
        choices=options([("own", _l("My own household")), ("other", _l("Another household"))]),
        validators=[InputRequired(message=_l("Choose whose data it is about."))],
    )
    subject_nik = NIKField(
        _l("NIK of the person it is about"),
        optional=True,
        description=_l(
            "Only needed for another household. Your identity is never shown to that household."
        ),
    )

    def validate_subject_nik(self, field: NIKField) -> None:
        if self.whose.data == "other" and not field.number:
            raise ValidationError(_l("Enter the NIK of the person it is about."))


class DetailsForm(BaseForm):
    evidence = MultiCheckboxField(_l("What do you know or have? Tick all that apply."))
    note = TextAreaField(
        _l("Describe the situation"),
        description=_l("What is wrong, since when, and how you know. At most 2000 characters."),
        validators=[
            DataRequired(message=_l("Describe the situation in a few sentences.")),
            Length(min=10, max=NOTE_MAX, message=_l("Write between 10 and 2000 characters.")),
        ],
    )

    def __init__(self, evidence: tuple[tuple[str, object], ...], *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.evidence.choices = options(evidence)


class HouseholdForm(BaseForm):
    no_kk = KKField(
        _l("No. KK of the household"),
        description=_l("16 digits, at the top of the household's family card."),
    )
    head_nik = NIKField(_l("NIK of the head of the household"))
    alamat = TextAreaField(
        _l("Address"),
        description=_l("Street or kampung, house number, RT/RW."),
        validators=[
            DataRequired(message=_l("Enter the address of the household.")),
            Length(max=ADDRESS_MAX, message=_l("Write at most 200 characters.")),
        ],
    )


class DesaForm(BaseForm):
    desa = SelectField(
        _l("Desa or kelurahan where the household lives"),
        validators=[InputRequired(message=_l("Choose the desa or kelurahan."))],
    )

    def __init__(self, choices: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desa.choices = options([("", _l("Choose...")), *choices])

    def validate_desa(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose the desa or kelurahan."))


class DesaSearchForm(BaseForm):
    class Meta:
        csrf = False  # a GET search, changes nothing

    q = StringField(
        _l("Search for a desa or kelurahan by name"),
        validators=[Optional(), Length(min=3, max=60, message=_l("Type 3 to 60 letters."))],
    )


class ProgramsForm(BaseForm):
    programs = MultiCheckboxField(
        _l("Which programs do you propose? Tick all that apply."),
        choices=options((code, PROGRAM_NAMES[code]) for code in PROPOSABLE_PROGRAMS),
        validators=[DataRequired(message=_l("Choose at least one program."))],
    )


def _condition_field(key: str) -> RadioField:
    label, choices = CONDITIONS[key]
    return RadioField(
        label,
        choices=options(choices),
        validators=[InputRequired(message=_l("Choose one answer."))],
    )


class ConditionsForm(BaseForm):
    work = _condition_field("work")
    income = _condition_field("income")
    floor = _condition_field("floor")
    walls = _condition_field("walls")
    water = _condition_field("water")
    electricity = _condition_field("electricity")
    sanitation = _condition_field("sanitation")


class HeirForm(BaseForm):
    deceased_nik = NIKField(_l("NIK of the recipient who died"))
    heir_nik = NIKField(
        _l("NIK of the heir"), description=_l("The heir must be on the same family card.")
    )

    def validate_heir_nik(self, field: NIKField) -> None:
        if field.number and field.number == self.deceased_nik.number:
            raise ValidationError(_l("The heir must be a different person."))


class PhotosForm(BaseForm):
    photos = MultipleFileField(
        _l("Add photos (optional)"),
        description=PhotoHint(),
    )


class RemovePhotoForm(BaseForm):
    pass


class ContactForm(BaseForm):
    phone = StringField(
        _l("Mobile number (optional)"),
        description=_l("We send a text message when the status changes. For example 081234567890."),
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    email = StringField(
        _l("E-mail address (optional)"), render_kw={"inputmode": "email", "autocomplete": "email"}
    )

    def validate_phone(self, field: StringField) -> None:
        if not field.data:
            return
        number = re.sub(r"[\s\-()]", "", field.data)
        if not PHONE.fullmatch(number):
            raise ValidationError(_l("Enter a mobile number starting with 08 or +628."))
        field.data = "+62" + number.removeprefix("+").removeprefix("62").removeprefix("0")

    def validate_email(self, field: StringField) -> None:
        if field.data and (len(field.data) > 254 or not EMAIL.fullmatch(field.data)):
            raise ValidationError(_l("Enter an e-mail address like name@example.com."))


class CheckForm(HoneypotMixin, BaseForm):
    declaration = BooleanField(
        _l("I declare that what I have written is true to the best of my knowledge."),
        validators=[DataRequired(message=_l("Confirm that what you wrote is true."))],
    )


class TrackForm(HoneypotMixin, BaseForm):
    ticket = StringField(
        _l("Ticket number"),
        description=_l("8 letters and digits, for example K7QM-4TX9."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    nik = NIKField(_l("Your NIK"), description=_l("The NIK you filed the case with."))


class WithdrawForm(BaseForm):
    confirm = BooleanField(
        _l("I want to withdraw this case"),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class ContestForm(HoneypotMixin, BaseForm):
    note = TextAreaField(
        _l("Why do you disagree with the decision?"),
        description=_l(
            "A different officer will look at your case again. At most 2000 characters."
        ),
        validators=[
            DataRequired(message=_l("Explain why you disagree.")),
            Length(min=10, max=NOTE_MAX, message=_l("Write between 10 and 2000 characters.")),
        ],
    )
    declaration = BooleanField(
        _l("I declare that what I have written is true to the best of my knowledge."),
        validators=[DataRequired(message=_l("Confirm that what you wrote is true."))],
    )
