"""Staff forms: queue filters, field-check request and result, decision."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.appeals import checklist
from portal.appeals.reasons import DECISION_REASONS, REASONS
from portal.appeals.states import TITLES, AppealStatus
from portal.forms import BaseForm, PhotoHint, RadioField, SelectField, options

NOTE_LIMITS = Length(min=10, max=2000, message=_l("Write between 10 and 2000 characters."))


VERVAL_CHOICES = {
    "none": _l("No field check asked"),
    "requested": _l("Field check asked, waiting"),
    "received": _l("Field check result received"),
}


class QueueFilterForm(BaseForm):
    class Meta:
        csrf = False  # a GET filter: changes nothing

    status = SelectField(_l("Status"), validators=[Optional()])
    reason = SelectField(_l("Reason"), validators=[Optional()])
    kecamatan = SelectField(_l("Kecamatan"), validators=[Optional()])
    # typed, with the desa of the officer's area offered by a <datalist>; matched to a desa
    # of the area by the server (portal/review/search.py resolve_desa), so it works without JS
    desa = StringField(
        _l("Desa/kelurahan"),
        description=_l("Type part of the name."),
        validators=[Optional(), Length(max=100, message=_l("Write at most 100 characters."))],
        render_kw={"autocomplete": "off", "spellcheck": "false", "list": "desa-list"},
    )
    verval = SelectField(_l("Field verification (verval)"), validators=[Optional()])
    overdue = BooleanField(_l("Only overdue"))
    escalated = BooleanField(_l("Only escalated"))
    mine = BooleanField(_l("Only assigned to me"))

    def __init__(
        self,
        kecamatan: list[tuple[str, str]],
        desa: list[tuple[str, str]],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = options(
            [("", _l("All")), *((s.value, TITLES[s]) for s in AppealStatus)]
        )
        self.reason.choices = options(
            [("", _l("All")), *((code, reason.title) for code, reason in REASONS.items())]
        )
        self.kecamatan.choices = options([("", _l("All")), *kecamatan])
        self.verval.choices = options([("", _l("All")), *VERVAL_CHOICES.items()])
        self.desa_options = desa  # (code, name) of the desa the officer may filter on


class FieldCheckRequestForm(BaseForm):
    desa = SelectField(
        _l("Desa where the check is done"),
        validators=[InputRequired(message=_l("Choose the desa."))],
    )
    instructions = TextAreaField(
        _l("What should the operator check?"),
        validators=[DataRequired(message=_l("Say what to check.")), NOTE_LIMITS],
    )

    def __init__(self, desa: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desa.choices = options(desa)


OUTCOMES = {
    "confirmed": _l("Confirmed: the report is right"),
    "not_confirmed": _l("Not confirmed: the report is not right"),
    "unclear": _l("Unclear: could not be checked"),
}


class FieldCheckResultForm(BaseForm):
    outcome = RadioField(
        _l("What did you find?"),
        choices=options(OUTCOMES.items()),
        validators=[InputRequired(message=_l("Choose what you found."))],
    )
    finding = TextAreaField(
        _l("Describe what you saw and who you spoke to"),
        validators=[DataRequired(message=_l("Describe what you found.")), NOTE_LIMITS],
    )
    photos = MultipleFileField(
        _l("Photos (optional)"),
        description=PhotoHint(),
    )


DECISIONS = (AppealStatus.DISETUJUI, AppealStatus.DITOLAK, AppealStatus.DUPLIKAT)


class DecisionForm(BaseForm):
    decision = RadioField(
        _l("Decision"),
        choices=options((s.value, TITLES[s]) for s in DECISIONS),
        validators=[InputRequired(message=_l("Choose the decision."))],
    )
    reason = SelectField(
        _l("Reason"),
        choices=options([("", _l("Choose...")), *DECISION_REASONS.items()]),
        validators=[DataRequired(message=_l("Choose the reason."))],
    )
    note = TextAreaField(
        _l("Explanation for the citizen"),
        description=_l(
            "The citizen reads this with the reason. Write plainly; no names of other people."
        ),
        validators=[DataRequired(message=_l("Write the explanation.")), NOTE_LIMITS],
    )
    duplicate_of = StringField(
        _l("Ticket of the case this one repeats"),
        description=_l("Only for a duplicate."),
        validators=[Optional(), Length(max=12)],
    )


class CaseSearchForm(BaseForm):
    """Find cases by ticket, NIK, No. KK or name (portal/review/search.py). Posted, so a
    NIK or No. KK typed here never reaches a URL or an access log."""

    q = StringField(
        _l("Ticket, NIK, No. KK or name"),
        description=_l(
            "A ticket (like K7QM-4TXE), a NIK or No. KK (16 digits), or at least one word of "
            "a name."
        ),
        validators=[
            DataRequired(message=_l("Type a ticket, a number or a name.")),
            Length(max=100, message=_l("Write at most 100 characters.")),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "search"},
    )


class MatchSearchForm(BaseForm):
    """Search the households of a desa by the name the filer gave (portal/review/matching)."""

    nama = StringField(
        _l("Name"),
        description=_l("Titles such as Pak, Bu or Haji are left out of the search."),
        validators=[
            DataRequired(message=_l("Enter a name to search for.")),
            Length(min=2, max=100, message=_l("Write between 2 and 100 characters.")),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    desa = SelectField(
        _l("Desa/kelurahan"),
        validators=[InputRequired(message=_l("Choose the desa."))],
    )

    def __init__(self, desa: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desa.choices = options(desa)


def field_check_result_form(reason_code: str, **kwargs: Any) -> FieldCheckResultForm:
    """The result form of a field check with one optional question per item of the reason's
    checklist (portal/appeals/checklist.py), named ``cek_<item>``."""

    class Form(FieldCheckResultForm):
        pass

    for item in checklist.items(reason_code):
        setattr(
            Form,
            checklist.field_name(item),
            RadioField(
                item.question,
                choices=options(checklist.ANSWERS.items()),
                validators=[Optional()],
            ),
        )
    return Form(**kwargs)


def checklist_fields(form: FieldCheckResultForm, reason_code: str) -> list[Any]:
    """The form's checklist questions, in the checklist's order."""
    return [form[checklist.field_name(item)] for item in checklist.items(reason_code)]


def checklist_answers(form: FieldCheckResultForm, reason_code: str) -> dict[str, Any]:
    """What the form says for each checklist item (valid answers only, see checklist.clean)."""
    return checklist.clean(
        reason_code,
        {item.key: form[checklist.field_name(item)].data for item in checklist.items(reason_code)},
    )
