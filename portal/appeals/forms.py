"""One short form per question page (GOV.UK pattern: one topic per page). The fields of the
filing questions are made from their one definition (portal/appeals/questions.py); a form
here says which questions its page asks, in order, and what only the page can check."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.appeals import picker
from portal.appeals.picker import Picker
from portal.appeals.questions import NOTE_MAX, QUESTIONS
from portal.appeals.questions import form_field as ask
from portal.appeals.reasons import Kind, for_kind
from portal.forms import (
    BaseForm,
    HoneypotMixin,
    NIKField,
    RadioField,
    options,
)
from portal.notify import contacts
from portal.wilayah import queries as wilayah


class ReasonForm(BaseForm):
    reason = ask("alasan.reason")

    def __init__(self, kind: Kind, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = options((r.code, r.title) for r in for_kind(kind))
        self.hints = {r.code: r.hint for r in for_kind(kind)}


class FilerForm(HoneypotMixin, BaseForm):
    nik = ask("pelapor.nik")
    no_kk = ask("pelapor.no_kk")


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


class SubjectForm(DesaPickerForm):
    """Whose data: the filer's own household, or another one, described as a neighbour
    knows it (name, address with RT/RW, desa); its NIK only if the filer happens to know
    it. Staff match a household named this way to DTSEN (portal/review/matching.py)."""

    whose = ask("subjek.whose")
    subject_name = ask("subjek.subject_name")
    subject_alamat = ask("subjek.subject_alamat")
    subject_rt = ask("subjek.subject_rt")
    subject_rw = ask("subjek.subject_rw")
    desa_q, desa, desa_confirm = _desa_fields(QUESTIONS["subjek.desa"].label)
    subject_nik = ask("subjek.subject_nik")

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
    evidence = ask("rincian.evidence")
    note = ask("rincian.note")

    def __init__(self, evidence: tuple[tuple[str, object], ...], *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.evidence.choices = options(evidence)


class HouseholdForm(BaseForm):
    no_kk = ask("rumah-tangga.no_kk")
    head_nik = ask("rumah-tangga.head_nik")
    alamat = ask("rumah-tangga.alamat")


class DesaForm(DesaPickerForm):
    desa_q, desa, desa_confirm = _desa_fields(QUESTIONS["desa.desa"].label)


class ProgramsForm(BaseForm):
    programs = ask("program.programs")


class ConditionsForm(BaseForm):
    work = ask("kondisi.work")
    income = ask("kondisi.income")
    floor = ask("kondisi.floor")
    walls = ask("kondisi.walls")
    water = ask("kondisi.water")
    electricity = ask("kondisi.electricity")
    sanitation = ask("kondisi.sanitation")


class HeirForm(BaseForm):
    deceased_nik = ask("ahli-waris.deceased_nik")
    heir_nik = ask("ahli-waris.heir_nik")

    def validate_heir_nik(self, field: NIKField) -> None:
        if field.number and field.number == self.deceased_nik.number:
            raise ValidationError(_l("The heir must be a different person."))


class PhotosForm(BaseForm):
    photos = ask("foto.photos")


class ContactForm(BaseForm):
    phone = ask("kontak.phone")
    email = ask("kontak.email")

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
    # an empty box is a form error, like an empty NIK: nothing is looked up
    ticket = StringField(
        _l("Ticket number"),
        description=_l("8 letters and digits, for example K7QM-4TXE."),
        validators=[DataRequired(message=_l("Enter the ticket number from your receipt."))],
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


# --- assisted filing at the desa office (portal/appeals/assisted.py) -----------------------


class AssistStartForm(BaseForm):
    """The operator starts filing for a citizen: which kind, at which desa office, and the
    consent statement they confirm was read to the citizen."""

    kind = RadioField(
        _l("What does the citizen want to file?"),
        validators=[InputRequired(message=_l("Choose sanggahan or usulan."))],
    )
    desa = RadioField(
        _l("Desa office"),
        validators=[InputRequired(message=_l("Choose the desa office."))],
    )
    consent = BooleanField(
        validators=[
            DataRequired(message=_l("Read the statement to the citizen and confirm it first."))
        ],
    )

    def __init__(
        self, desa: list[tuple[str, str]], consent: object, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = options(
            [
                (Kind.SANGGAHAN.value, _l("Sanggahan: their data in DTSEN is wrong")),
                (Kind.USULAN.value, _l("Usulan: a household to add or change")),
            ]
        )
        self.desa.choices = options(desa)
        self.consent.label.text = str(consent)
        if len(desa) == 1 and not self.desa.data:
            self.desa.data = desa[0][0]


class AssistSmsForm(BaseForm):
    """The ticket by SMS to a number the citizen gives (not kept with the case)."""

    phone = StringField(
        _l("The citizen's mobile number"),
        description=_l("An Indonesian mobile number, e.g. 0812 3456 7890."),
        validators=[
            DataRequired(message=_l("Enter the mobile number.")),
            Length(max=30, message=_l("Enter a mobile number starting with 08 or +628.")),
        ],
    )

    def validate_phone(self, field: StringField) -> None:
        try:
            field.data = contacts.normalise_phone(field.data or "")
        except contacts.InvalidContact:
            raise ValidationError(_l("Enter a mobile number starting with 08 or +628.")) from None
