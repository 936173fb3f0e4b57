"""One definition per question: what the filer is asked, and how the answer is shown.

Each question of the filing pages (portal/appeals/journey.py orders the pages) is defined
once here: its page and field name, label, hint, type, choices, validation, and where its
answer appears: in the check-answers summary (``summary``), on the staff case page
(``case``) and in the Pusdatin export (``export``), or why it does not (``Hidden``). From
this the form fields (portal/appeals/forms.py), the summary (``queries.summarise``), the
question rows of the case page (templates/review/case.html) and the question columns of the
export (portal/review/export.py) are derived; tests/appeals/test_questions.py fails when a
question is defined but not shown where it says, or shown where it says it is not.

Which reasons ask a question follows from its page (``asked_by``): the journey decides which
pages a reason has (the heir page only for USUL-AHLI-WARIS, for instance).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.file import MultipleFileField
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.appeals.journey import STEPS
from portal.appeals.reasons import CONDITIONS, PROPOSABLE_PROGRAMS, REASONS, Reason
from portal.core.nik import mask_nik
from portal.forms import KKField, MultiCheckboxField, NIKField, PhotoHint, RadioField, options
from portal.i18n.filters import period_label
from portal.lookup.labels import PROGRAM_NAMES
from portal.wilayah import queries as wilayah

NOTE_MAX = 2000
ADDRESS_MAX = 200
NAME_MAX = 100
RT_RW = re.compile(r"\d{1,3}", re.ASCII)

Choices = tuple[tuple[str, object], ...]
Answers = Mapping[str, Any]  # the answers of one page, as the draft keeps them


class Type(StrEnum):
    CHOICE = "choice"  # one of the choices (radio buttons)
    CHOICES = "choices"  # any of the choices (check boxes)
    TEXT = "text"  # one line
    LONG_TEXT = "long_text"  # a few sentences (text area)
    NUMBER = "number"  # a short number (RT, RW)
    NIK = "nik"  # a 16-digit NIK
    KK = "kk"  # a 16-digit No. KK
    DESA = "desa"  # a desa or kelurahan, from the desa picker
    PHOTO = "photo"  # photos, uploaded on their own page


@dataclass(frozen=True)
class Context:
    """What a summary line may need besides the page's answers."""

    answers: Mapping[str, Any]  # every page's answers
    photos: int = 0  # photos in the draft

    @property
    def reason(self) -> Reason | None:
        code = (self.answers.get("alasan") or {}).get("reason")
        return REASONS.get(code) if code else None


@dataclass(frozen=True)
class Hidden:
    """Not shown in this place, and why (a reason a reviewer can check)."""

    why: str


@dataclass(frozen=True)
class Summary:
    """The lines of the answer on the check-answers page: numbers masked, text the filer
    typed shown as typed so they can check it (the answers hold no name from DTSEN: a person
    chosen from the family card is kept as a NIK).
    ``part_of``: shown within another question's line of the same page (RT/RW with the
    address) rather than on lines of its own."""

    lines: Callable[[Answers, Context], list[str]] | None = None
    part_of: str | None = None


@dataclass(frozen=True)
class Case:
    """Where on the staff case page (templates/review/case.html) the answer is shown. With
    ``lines``, the template shows what they return for the case; without, the template
    writes it by hand at PLACE, beside what DTSEN and staff added (a match, a flag)."""

    place: str
    lines: Callable[[Any], list[str]] | None = None


@dataclass(frozen=True)
class Export:
    """The export column (docs/export.md) the answer goes to. With ``value``, the cell is
    what it returns for the export's row; without, the column is the case's own (the answer
    fed it when the case was filed, and staff may have corrected it since)."""

    column: str
    value: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Question:
    """One question of the filing pages, the one place it is defined."""

    page: str  # the question page (journey slug)
    name: str  # the form field and the key in the page's answers
    type: Type
    label: object
    summary: Summary | Hidden
    case: Case | Hidden
    export: Export | Hidden
    hint: object = None
    # fixed choices; the reason's own for evidence (``choices_for``); the reason question's
    # come from REASONS
    choices: Choices | Callable[[Reason], Choices] = ()
    # the message when left unanswered; None: may be left empty (a NIK or No. KK box
    # refuses an empty answer by itself, unless ``optional``)
    required: object = None
    optional: bool = False  # a NIK that may be left empty (a NIK field refuses an empty box)
    # the question when a NIK is answered by choosing a person on the filer's family card
    # (portal/appeals/prefill.py); the box is then for someone else
    choose: object = None
    length: tuple[int, int, object] | None = None  # (min, max, message) for text
    checks: tuple[Callable[[Any, Any], None], ...] = ()  # more WTForms validators
    render_kw: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.page}.{self.name}"

    def choices_for(self, reason: Reason | None) -> Choices:
        if callable(self.choices):
            return self.choices(reason) if reason is not None else ()
        return self.choices

    def label_of(self, value: str, reason: Reason | None = None) -> str:
        """The label of a chosen value (the value itself if it is not a choice any more)."""
        return str(dict(self.choices_for(reason)).get(value, value))


# --- shared wording ---------------------------------------------------------------------


def filer_found(period: str | None) -> str:
    """The filer proven in DTSEN, with the period their household is registered in (for a
    household removed in the last update, the last period it was in)."""
    if not period:
        return str(_("Found in DTSEN"))
    return str(_("Found in DTSEN: registered in %(period)s", period=period_label(period)))


def address_line(alamat: str | None, rt: str | None, rw: str | None) -> str:
    """An address with its RT/RW written the way DTSEN writes them: "KP. BARU RT 002/RW 005"."""
    parts = [alamat or ""]
    if rt or rw:
        parts.append(f"RT {rt or '-'}/RW {rw or '-'}")
    return " ".join(p for p in parts if p)


def _rt_rw(message: object) -> Callable[[Any, Any], None]:
    """RT or RW: 1 to 3 digits, not 0; kept as DTSEN writes it (RT 002/RW 005)."""

    def check(_form: Any, field_: Any) -> None:
        if not field_.data:
            raise ValidationError(message)
        if not RT_RW.fullmatch(field_.data) or int(field_.data) == 0:
            raise ValidationError(message)
        field_.data = f"{int(field_.data):03d}"

    return check


def _desa_lines(code: str | None) -> list[str]:
    return [label for _code, label in wilayah.describe([code])] if code else []


def _other(a: Answers) -> bool:
    """The subject page answered for another household (not the filer's own)."""
    return a.get("whose") != "own"


def _reported(case: Any) -> bool:
    """A sanggahan about another household (its name and address as the filer wrote them)."""
    return bool(case.kind == "sanggahan" and not case.subject_is_filer_household)


def _usulan(case: Any) -> bool:
    return bool(case.kind == "usulan")


def _details(case: Any, key: str) -> Any:
    return (case.details or {}).get(key) or {}


FILER_PROTECTED = "the filer's identity never leaves the portal (DOMAIN.md)"
NO_KK_HASHED = "only its keyed hash is kept; the case page says whether it was verified"
NOT_EXPORTED = "Pusdatin's file has no column for it (docs/export.md)"


def _condition(key: str) -> Question:
    """One of the usulan's questions about the household's situation (reasons.CONDITIONS)."""
    label, choices = CONDITIONS[key]

    def line(value: str) -> str:
        return f"{label}: {dict(choices).get(value, value)}"

    def summary(a: Answers, _context: Context) -> list[str]:
        return [line(a[key])] if key in a else []

    def on_case(case: Any) -> list[str]:
        value = _details(case, "conditions").get(key)
        return [line(value)] if value is not None else []

    return Question(
        "kondisi",
        key,
        Type.CHOICE,
        label,
        choices=choices,
        required=_l("Choose one answer."),
        summary=Summary(summary),
        case=Case("situation", on_case),
        export=Hidden(NOT_EXPORTED),
    )


_QUESTIONS: tuple[Question, ...] = (
    # --- alasan ---------------------------------------------------------------------------
    Question(
        "alasan",
        "reason",
        Type.CHOICE,
        _l("What is it about?"),
        required=_l("Choose what your case is about."),
        summary=Summary(lambda a, _c: [str(REASONS[a["reason"]].title)] if a else []),
        case=Case("heading"),
        export=Export("reason_code"),
    ),
    # --- pelapor --------------------------------------------------------------------------
    Question(
        "pelapor",
        "nik",
        Type.NIK,
        _l("Your NIK"),
        hint=_l("16 digits, on your KTP and your family card."),
        summary=Summary(lambda a, _c: [_("NIK %(nik)s", nik=mask_nik(a.get("nik", "")))]),
        case=Case("filer"),
        export=Hidden(FILER_PROTECTED),
    ),
    Question(
        "pelapor",
        "no_kk",
        Type.KK,
        _l("Your No. KK"),
        hint=_l("16 digits, at the top of your family card."),
        summary=Summary(
            lambda a, _c: [
                _("No. KK %(kk)s", kk=mask_nik(a.get("no_kk", ""))),
                filer_found(a.get("period"))
                if a.get("verified")
                else _("Not found in DTSEN: staff will take this into account"),
            ]
        ),
        case=Hidden(NO_KK_HASHED),
        export=Hidden(FILER_PROTECTED),
    ),
    # --- subjek (a sanggahan that may be about another household) --------------------------
    Question(
        "subjek",
        "whose",
        Type.CHOICE,
        _l("Whose data is it about?"),
        choices=(("own", _l("My own household")), ("other", _l("Another household"))),
        required=_l("Choose whose data it is about."),
        summary=Summary(
            lambda a, _c: (
                [_("My own household")] if a.get("whose") == "own" else [_("Another household")]
            )
        ),
        case=Case("filer"),
        export=Hidden("the subject_* columns are empty for the filer's own household"),
    ),
    Question(
        "subjek",
        "subject_name",
        Type.TEXT,
        _l("Name of the person it is about"),
        hint=_l(
            "As people know them, for example Pak Rahmat or Bu Eni. Your identity is "
            "never shown to that household."
        ),
        required=_l("Enter the name of the person it is about."),
        length=(2, NAME_MAX, _l("Write between 2 and 100 characters.")),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
        summary=Summary(
            lambda a, _c: (
                # as typed: the filer checks its spelling (only their browser sees the page)
                [_("Name: %(name)s", name=a["subject_name"])]
                if _other(a) and a.get("subject_name")
                else []
            )
        ),
        case=Case("about"),
        export=Export("subject_name", lambda case: case.subject_name if _reported(case) else None),
    ),
    Question(
        "subjek",
        "subject_alamat",
        Type.LONG_TEXT,
        _l("Their address"),
        hint=_l("Kampung or street, and house number if you know it."),
        required=_l("Enter the address of the household."),
        length=(0, ADDRESS_MAX, _l("Write at most 200 characters.")),
        summary=Summary(
            lambda a, _c: (
                [_("Address: %(address)s", address=address)]
                if _other(a)
                and (
                    address := address_line(
                        a.get("subject_alamat"), a.get("subject_rt"), a.get("subject_rw")
                    )
                )
                else []
            )
        ),
        case=Case("about"),
        export=Export(
            "subject_address",
            lambda case: (
                address_line(case.subject_alamat, case.subject_rt, case.subject_rw)
                if _reported(case)
                else None
            ),
        ),
    ),
    Question(
        "subjek",
        "subject_rt",
        Type.NUMBER,
        _l("RT"),
        checks=(_rt_rw(_l("Enter the RT as a number, for example 3.")),),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": "3"},
        summary=Summary(part_of="subject_alamat"),
        case=Case("about"),
        export=Export("subject_address"),
    ),
    Question(
        "subjek",
        "subject_rw",
        Type.NUMBER,
        _l("RW"),
        checks=(_rt_rw(_l("Enter the RW as a number, for example 5.")),),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": "3"},
        summary=Summary(part_of="subject_alamat"),
        case=Case("about"),
        export=Export("subject_address"),
    ),
    Question(
        "subjek",
        "desa",
        Type.DESA,
        _l("Desa or kelurahan where they live"),
        summary=Summary(lambda a, _c: _desa_lines(a.get("desa")) if _other(a) else []),
        case=Case("about"),
        export=Export("kode_desa"),
    ),
    Question(
        "subjek",
        "subject_nik",
        Type.NIK,
        _l("NIK of the person it is about (optional)"),
        hint=_l("Only if you know it. You can leave this empty."),
        optional=True,
        summary=Summary(
            lambda a, _c: (
                []
                if not _other(a)
                else [_("NIK %(nik)s", nik=mask_nik(a["subject_nik"]))]
                if a.get("subject_nik")
                else [_("NIK not given")]
                if "subject_name" in a
                else []
            )
        ),
        case=Case("about"),
        export=Export("subject_nik"),
    ),
    # --- rincian (sanggahan) ----------------------------------------------------------------
    Question(
        "rincian",
        "evidence",
        Type.CHOICES,
        _l("What do you know or have? Tick all that apply."),
        choices=lambda reason: reason.evidence,
        summary=Summary(
            lambda a, c: [
                QUESTIONS["rincian.evidence"].label_of(e, c.reason) for e in a.get("evidence", [])
            ]
        ),
        case=Case(
            "evidence",
            lambda case: [
                str(label)
                for key, label in REASONS[case.reason_code].evidence
                if key in (case.evidence or [])
            ],
        ),
        export=Hidden(NOT_EXPORTED),
    ),
    Question(
        "rincian",
        "note",
        Type.LONG_TEXT,
        _l("Describe the situation"),
        hint=_l("What is wrong, since when, and how you know. At most 2000 characters."),
        required=_l("Describe the situation in a few sentences."),
        length=(10, NOTE_MAX, _l("Write between 10 and 2000 characters.")),
        summary=Summary(lambda a, _c: [a.get("note", "")]),
        case=Case("note", lambda case: [case.note] if case.note else []),
        export=Hidden(NOT_EXPORTED),
    ),
    # --- rumah-tangga (usulan) --------------------------------------------------------------
    Question(
        "rumah-tangga",
        "no_kk",
        Type.KK,
        _l("No. KK of the household"),
        hint=_l("16 digits, at the top of the household's family card."),
        summary=Summary(lambda a, _c: [_("No. KK %(kk)s", kk=mask_nik(a.get("no_kk", "")))]),
        case=Case(
            "household",
            lambda case: (
                [f"No. KK {no_kk}"] if (no_kk := _details(case, "household").get("no_kk")) else []
            ),
        ),
        export=Export("subject_no_kk"),
    ),
    Question(
        "rumah-tangga",
        "head_nik",
        Type.NIK,
        _l("NIK of the head of the household"),
        choose=_l("Who is the head of the household?"),
        summary=Summary(
            lambda a, _c: [_("Head of household: NIK %(nik)s", nik=mask_nik(a.get("head_nik", "")))]
        ),
        # the head's NIK is the case's subject (subject_nik); staff see it with the household
        case=Case(
            "household",
            lambda case: (
                [_("Head of household: NIK %(nik)s", nik=case.subject_nik)]
                if _usulan(case) and case.subject_nik
                else []
            ),
        ),
        export=Export("subject_nik"),
    ),
    Question(
        "rumah-tangga",
        "alamat",
        Type.LONG_TEXT,
        _l("Address"),
        hint=_l("Street or kampung, house number, RT/RW."),
        required=_l("Enter the address of the household."),
        length=(0, ADDRESS_MAX, _l("Write at most 200 characters.")),
        summary=Summary(lambda a, _c: [a.get("alamat", "")]),
        case=Case(
            "household",
            lambda case: [alamat] if (alamat := _details(case, "household").get("alamat")) else [],
        ),
        export=Hidden(NOT_EXPORTED),
    ),
    # --- desa (usulan) ---------------------------------------------------------------------
    Question(
        "desa",
        "desa",
        Type.DESA,
        _l("Desa or kelurahan where the household lives"),
        summary=Summary(lambda a, _c: _desa_lines(a.get("desa"))),
        case=Case("area"),
        export=Export("kode_desa"),
    ),
    # --- program (usulan, not for an heir) ---------------------------------------------------
    Question(
        "program",
        "programs",
        Type.CHOICES,
        _l("Which programs do you propose? Tick all that apply."),
        choices=tuple((code, PROGRAM_NAMES[code]) for code in PROPOSABLE_PROGRAMS),
        required=_l("Choose at least one program."),
        summary=Summary(
            lambda a, _c: [str(PROGRAM_NAMES.get(p, p)) for p in a.get("programs", [])]
        ),
        case=Case(
            "programs",
            lambda case: [
                str(PROGRAM_NAMES.get(p, p)) for p in (case.details or {}).get("programs", [])
            ],
        ),
        export=Export(
            "programs_proposed",
            lambda case: (
                ";".join((case.details or {}).get("programs") or []) if _usulan(case) else None
            ),
        ),
    ),
    # --- kondisi (usulan, not for an heir) ----------------------------------------------------
    *(_condition(key) for key in CONDITIONS),
    # --- ahli-waris (USUL-AHLI-WARIS) --------------------------------------------------------
    Question(
        "ahli-waris",
        "deceased_nik",
        Type.NIK,
        _l("NIK of the recipient who died"),
        choose=_l("Who is the recipient who died?"),
        summary=Summary(
            lambda a, _c: [
                _("Recipient who died: NIK %(nik)s", nik=mask_nik(a.get("deceased_nik", "")))
            ]
        ),
        case=Case(
            "heir",
            lambda case: (
                [_("Deceased: NIK %(nik)s", nik=nik)]
                if (nik := _details(case, "heir").get("deceased_nik"))
                else []
            ),
        ),
        export=Export("deceased_nik", lambda case: _details(case, "heir").get("deceased_nik")),
    ),
    Question(
        "ahli-waris",
        "heir_nik",
        Type.NIK,
        _l("NIK of the heir"),
        hint=_l("The heir must be on the same family card."),
        choose=_l("Who is the heir?"),
        summary=Summary(
            lambda a, _c: [_("Heir: NIK %(nik)s", nik=mask_nik(a.get("heir_nik", "")))]
        ),
        case=Case(
            "heir",
            lambda case: (
                [_("Heir: NIK %(nik)s", nik=nik)]
                if (nik := _details(case, "heir").get("heir_nik"))
                else []
            ),
        ),
        export=Export("heir_nik", lambda case: _details(case, "heir").get("heir_nik")),
    ),
    # --- foto --------------------------------------------------------------------------------
    Question(
        "foto",
        "photos",
        Type.PHOTO,
        _l("Add photos (optional)"),
        hint=PhotoHint(),
        summary=Summary(
            lambda _a, c: [
                ngettext("%(num)d photo", "%(num)d photos", c.photos)
                if c.photos
                else _("No photos")
            ]
        ),
        case=Case("photos"),
        export=Hidden(NOT_EXPORTED),
    ),
    # --- kontak ------------------------------------------------------------------------------
    Question(
        "kontak",
        "phone",
        Type.TEXT,
        _l("Mobile number (optional)"),
        hint=_l("Only if an officer needs to ask you about your case. For example 081234567890."),
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
        summary=Summary(lambda a, _c: [a["phone"]] if a.get("phone") else []),
        case=Hidden("staff reach the filer through the contact page, which logs each look"),
        export=Hidden(FILER_PROTECTED),
    ),
    Question(
        "kontak",
        "email",
        Type.TEXT,
        _l("E-mail address (optional)"),
        render_kw={"inputmode": "email", "autocomplete": "email"},
        summary=Summary(lambda a, _c: [a["email"]] if a.get("email") else []),
        case=Hidden("staff reach the filer through the contact page, which logs each look"),
        export=Hidden(FILER_PROTECTED),
    ),
)

QUESTIONS: dict[str, Question] = {q.id: q for q in _QUESTIONS}

# What the summary says of a page none of whose questions has an answer to show.
NOTHING_GIVEN: dict[str, object] = {
    "kontak": _l("No contact: follow the case with its ticket number"),
}


def on_page(page: str) -> list[Question]:
    """The questions of PAGE, in the order the page asks them."""
    return [q for q in _QUESTIONS if q.page == page]


def pages() -> list[str]:
    return list(dict.fromkeys(q.page for q in _QUESTIONS))


def asked_by(question: Question) -> set[str]:
    """The reason codes whose journey has QUESTION's page."""
    codes = set()
    for code, reason in REASONS.items():
        answers = {"alasan": {"reason": code}}
        if any(s.slug == question.page and s.applies(answers) for s in STEPS[reason.kind]):
            codes.add(code)
    return codes


# --- derived: form fields ------------------------------------------------------------------


def form_field(question_id: str) -> Field:
    """The (unbound) WTForms field of a question, for a form class in forms.py. The desa
    picker's three fields are made by forms._desa_fields from the question's label."""
    q = QUESTIONS[question_id]
    validators: list[Any] = []
    if q.required is not None:
        needs = InputRequired if q.type is Type.CHOICE else DataRequired
        validators.append(needs(message=q.required))
    if q.length is not None:
        low, high, message = q.length
        validators.append(Length(min=low or -1, max=high, message=message))
    validators += q.checks
    render_kw = dict(q.render_kw) or None
    if q.type is Type.CHOICE:
        choices = options(q.choices) if isinstance(q.choices, tuple) and q.choices else None
        return RadioField(q.label, choices=choices, validators=validators)
    if q.type is Type.CHOICES:
        choices = options(q.choices) if isinstance(q.choices, tuple) and q.choices else None
        return MultiCheckboxField(q.label, choices=choices, validators=validators)
    if q.type is Type.NIK:
        return NIKField(q.label, description=q.hint or "", optional=q.optional)
    if q.type is Type.KK:
        return KKField(q.label, description=q.hint or "")
    if q.type is Type.PHOTO:
        return MultipleFileField(q.label, description=q.hint)
    if q.type is Type.LONG_TEXT:
        return TextAreaField(q.label, description=q.hint or "", validators=validators)
    if q.type in (Type.TEXT, Type.NUMBER):
        return StringField(
            q.label, description=q.hint or "", validators=validators, render_kw=render_kw
        )
    raise ValueError(f"{q.id}: a {q.type} question has no single field")


# --- derived: the check-answers summary ------------------------------------------------------


def summary_lines(page: str, a: Answers, context: Context) -> list[str]:
    """The lines of PAGE's row on the check-answers page, from its questions in order."""
    lines: list[str] = []
    for q in on_page(page):
        if isinstance(q.summary, Summary) and q.summary.lines is not None:
            lines += q.summary.lines(a, context)
    lines = [line for line in lines if line]
    if not lines and page in NOTHING_GIVEN:
        lines = [str(NOTHING_GIVEN[page])]
    return lines


# --- derived: the staff case page ------------------------------------------------------------


def case_lines(case: Any) -> dict[str, list[str]]:
    """The lines the case page shows of the answers, by place (evidence, note, household,
    programs, situation, heir), from the questions in order. A place with nothing to show
    is left out."""
    shown: dict[str, list[str]] = {}
    for q in _QUESTIONS:
        if isinstance(q.case, Case) and q.case.lines is not None:
            lines = [line for line in q.case.lines(case) if line]
            if lines:
                shown.setdefault(q.case.place, []).extend(lines)
    return shown


# --- derived: the export ---------------------------------------------------------------------


def export_columns() -> list[str]:
    """The export columns the questions fill (each once, in question order)."""
    return list(dict.fromkeys(q.export.column for q in _QUESTIONS if isinstance(q.export, Export)))


def export_values(case: Any) -> dict[str, Any]:
    """The cells of the question columns that the questions compute (the others are the
    case's own columns), for one row of the export's query."""
    values: dict[str, Any] = {}
    for q in _QUESTIONS:
        if isinstance(q.export, Export) and q.export.value is not None:
            values[q.export.column] = q.export.value(case)
    return values
