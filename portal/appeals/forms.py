"""One short form per question page (GOV.UK pattern: one topic per page)."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.appeals import picker
from portal.appeals.picker import Picker
from portal.appeals.reasons import CONDITIONS, PROPOSABLE_PROGRAMS, Kind, for_kind
from portal.forms import (
    BaseForm,
    HoneypotMixin,
    KKField,
    MultiCheckboxField,
    NIKField,
    PhotoHint,
    RadioField,
    options,
)
from portal.lookup.labels import PROGRAM_NAMES
from portal.notify import contacts
from portal.wilayah import queries as wilayah

NOTE_MAX = 2000
ADDRESS_MAX = 200


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


def _desa_fields(label: object) -> tuple[StringField, RadioField, BooleanField]:
    """The fields of the desa picker (templates/appeals/_desa.html), in page order: the
    search box, the desa to choose, and the confirmation a desa of another kabupaten needs.
    Made per form, so each form places them among its own fields."""
    return (
        StringField(
            _l("Search for a desa or kelurahan by name"),
            description=_l("Type at least 3 letters, then press Search."),
            validators=[Optional(), Length(max=60, message=_l("Type at most 60 letters."))],
            render_kw={"autocomplete": "off", "spellcheck": "false"},
        ),
        RadioField(label, validators=[InputRequired(message=_l("Choose the desa or kelurahan."))]),
        BooleanField(_l("Yes, this is the right desa, even though it is in another kabupaten.")),
    )


class DesaPickerForm(BaseForm):
    """A form with the desa picker. ``picker`` says what to offer; a desa outside the
    family card's kabupaten/kota needs the box ticked (a Sukabumi desa for a Bekasi KK is
    usually a slip of the finger)."""

    desa_q: StringField
    desa: RadioField
    desa_confirm: BooleanField

    def __init__(self, picker_: Picker, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.picker = picker_
        self.desa.choices = options(picker_.choices)
        if picker_.kecamatan_name and not picker_.searched:
            self.desa.description = (
                _l(
                    "Desa in Kecamatan %(kecamatan)s, where your family card is from. "
                    "Not in the list? Search by name above.",
                    kecamatan=picker_.kecamatan_name,
                )
                if picker_.filer_card
                else _l(
                    "Desa in Kecamatan %(kecamatan)s, where the household's family card is "
                    "from. Not in the list? Search by name above.",
                    kecamatan=picker_.kecamatan_name,
                )
            )

    @property
    def desa_elsewhere(self) -> bool:
        """The chosen desa (a valid choice) lies outside the family card's kabupaten/kota."""
        chosen = self.desa.data if not self.desa.errors else None
        return picker.elsewhere(self.picker.home, chosen)

    def elsewhere_place(self) -> dict[str, str]:
        """Names for the warning: the chosen desa, its kabupaten/kota, the family card's."""
        desa = self.desa.data or ""
        kabupaten = picker.kabupaten_of(desa) or ""
        known = wilayah.names({desa, kabupaten})
        return {
            "desa": known.get(desa, desa),
            "place": known.get(kabupaten, kabupaten),
            "home": self.picker.home_name,
        }

    def validate_desa_confirm(self, field: BooleanField) -> None:
        if self.desa_elsewhere and not field.data:
            raise ValidationError(
                _l("Tick the box if this is the right desa, or choose another desa.")
            )


RT_RW = re.compile(r"\d{1,3}", re.ASCII)
NAME_MAX = 100


def _rt_rw_field(label: object) -> StringField:
    return StringField(
        label,
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": "3"},
    )


class SubjectForm(DesaPickerForm):
    """Whose data: the filer's own household, or another one, described as a neighbour
    knows it (name, address with RT/RW, desa); its NIK only if the filer happens to know
    it. Staff match a household named this way to DTSEN (portal/review/matching.py)."""

    whose = RadioField(
        _l("Whose data is it about?"),
        choices=options([("own", _l("My own household")), ("other", _l("Another household"))]),
        validators=[InputRequired(message=_l("Choose whose data it is about."))],
    )
    subject_name = StringField(
        _l("Name of the person it is about"),
        description=_l(
            "As people know them, for example Pak Rahmat or Bu Eni. Your identity is "
            "never shown to that household."
        ),
        validators=[
            DataRequired(message=_l("Enter the name of the person it is about.")),
            Length(min=2, max=NAME_MAX, message=_l("Write between 2 and 100 characters.")),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    subject_alamat = TextAreaField(
        _l("Their address"),
        description=_l("Kampung or street, and house number if you know it."),
        validators=[
            DataRequired(message=_l("Enter the address of the household.")),
            Length(max=ADDRESS_MAX, message=_l("Write at most 200 characters.")),
        ],
    )
    subject_rt = _rt_rw_field(_l("RT"))
    subject_rw = _rt_rw_field(_l("RW"))
    desa_q, desa, desa_confirm = _desa_fields(_l("Desa or kelurahan where they live"))
    subject_nik = NIKField(
        _l("NIK of the person it is about (optional)"),
        optional=True,
        description=_l("Only if you know it. You can leave this empty."),
    )

    # answered only for another household: ignored (and not checked) for one's own
    ABOUT_OTHER = (
        "subject_name",
        "subject_alamat",
        "subject_rt",
        "subject_rw",
        "desa_q",
        "desa",
        "desa_confirm",
        "subject_nik",
    )

    def validate_subject_rt(self, field: StringField) -> None:
        self._rt_rw(field, _l("Enter the RT as a number, for example 3."))

    def validate_subject_rw(self, field: StringField) -> None:
        self._rt_rw(field, _l("Enter the RW as a number, for example 5."))

    @staticmethod
    def _rt_rw(field: StringField, message: object) -> None:
        if not field.data:
            raise ValidationError(message)
        if not RT_RW.fullmatch(field.data) or int(field.data) == 0:
            raise ValidationError(message)
        field.data = f"{int(field.data):03d}"  # as DTSEN writes it: RT 002/RW 005

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.whose.data == "other":
            return valid
        # one's own household (or no answer yet): only the first question counts
        for name in self.ABOUT_OTHER:
            field = self[name]
            field.errors = []
            field.data = None
            if isinstance(field, NIKField):
                field.number = None
        return not self.whose.errors and not self.form_errors


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


class DesaForm(DesaPickerForm):
    desa_q, desa, desa_confirm = _desa_fields(_l("Desa or kelurahan where the household lives"))


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


class ContactForm(BaseForm):
    phone = StringField(
        _l("Mobile number (optional)"),
        description=_l(
            "Only if an officer needs to ask you about your case. For example 081234567890."
        ),
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    email = StringField(
        _l("E-mail address (optional)"), render_kw={"inputmode": "email", "autocomplete": "email"}
    )

    def validate_phone(self, field: StringField) -> None:
        if not field.data or not field.data.strip():
            field.data = ""
            return
        try:
            field.data = contacts.normalise_phone(field.data)  # E.164: +6281234567890
        except contacts.InvalidContact:
            raise ValidationError(_l("Enter a mobile number starting with 08 or +628.")) from None

    def validate_email(self, field: StringField) -> None:
        if not field.data or not field.data.strip():
            field.data = ""
            return
        try:
            field.data = contacts.normalise_email(field.data)
        except contacts.InvalidContact:
            raise ValidationError(_l("Enter an e-mail address like name@example.com.")) from None


class CheckForm(HoneypotMixin, BaseForm):
    declaration = BooleanField(
        _l("I declare that what I have written is true to the best of my knowledge."),
        validators=[DataRequired(message=_l("Confirm that what you wrote is true."))],
    )


class TrackForm(HoneypotMixin, BaseForm):
    ticket = StringField(
        _l("Ticket number"),
        description=_l("8 letters and digits, for example K7QM-4TXE."),
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
