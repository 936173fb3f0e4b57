"""Reason codes (DOMAIN.md, aligned with Listahanan grievance codes), the evidence that fits
each, the usulan questions, and the decision reasons staff choose from. All as data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from portal.core.programs import PROGRAMS


class Kind(StrEnum):
    SANGGAHAN = "sanggahan"
    USULAN = "usulan"


class Subject(StrEnum):
    OWN = "own"  # always the filer's own household
    EITHER = "either"  # the filer's household or another one, by NIK
    PROPOSED = "proposed"  # a household described in the usulan


@dataclass(frozen=True)
class Reason:
    code: str
    kind: Kind
    subject: Subject
    title: object  # lazy string
    hint: object
    evidence: tuple[tuple[str, object], ...] = ()


REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        Reason(
            "INC-ASN",
            Kind.SANGGAHAN,
            Subject.EITHER,
            _l("A recipient works for the state"),
            _l(
                "The recipient or a family member is ASN, TNI, Polri, an official "
                "or BUMN/BUMD staff."
            ),
            (
                ("employer_known", _l("I know where they work (office, unit or company)")),
                (
                    "uniform_or_id",
                    _l("I have seen their uniform, staff card or appointment letter"),
                ),
                ("document", _l("I have a document that shows it")),
            ),
        ),
        Reason(
            "INC-MAMPU",
            Kind.SANGGAHAN,
            Subject.EITHER,
            _l("A recipient is clearly well-off"),
            _l("The household has a good house, a car, a business or other assets."),
            (
                ("house", _l("A large or well-built house")),
                ("vehicle", _l("A car, or several motorbikes")),
                ("business", _l("A shop, business or rented-out property")),
                ("land", _l("Land, ponds or livestock of value")),
            ),
        ),
        Reason(
            "INC-MENINGGAL",
            Kind.SANGGAHAN,
            Subject.EITHER,
            _l("A recipient has died"),
            _l("Someone listed as a recipient has passed away."),
            (
                ("death_certificate", _l("Death certificate (akta kematian)")),
                ("village_letter", _l("Letter from the desa/kelurahan")),
                ("witness", _l("Known to neighbours, the RT or the RW")),
            ),
        ),
        Reason(
            "INC-PINDAH",
            Kind.SANGGAHAN,
            Subject.EITHER,
            _l("A recipient moved away"),
            _l("The household no longer lives at the address, or cannot be found there."),
            (
                ("moving_letter", _l("Letter of moving (surat pindah)")),
                ("house_empty", _l("The house is empty or lived in by others")),
                ("rt_statement", _l("The RT or RW can confirm it")),
            ),
        ),
        Reason(
            "INC-GANDA",
            Kind.SANGGAHAN,
            Subject.EITHER,
            _l("A duplicate record"),
            _l("The same person or household appears twice."),
            (
                ("two_numbers", _l("I know the numbers of both records")),
                ("same_person", _l("The same person is listed under two family cards")),
            ),
        ),
        Reason(
            "INC-SELF",
            Kind.SANGGAHAN,
            Subject.OWN,
            _l("Leave bansos: we no longer need it"),
            _l("Our situation has improved and we no longer need assistance (graduasi mandiri)."),
            (
                ("income_enough", _l("Our income is now enough")),
                ("new_work", _l("Someone in the family found steady work")),
            ),
        ),
        Reason(
            "EXC-DESIL-SALAH",
            Kind.SANGGAHAN,
            Subject.OWN,
            _l("My desil is wrong"),
            _l("My desil is too high, or our situation has got worse."),
            (
                ("income_lost", _l("We lost a job or our income")),
                ("illness", _l("Serious illness or disability in the family")),
                ("disaster", _l("A disaster damaged our house or livelihood")),
                ("sktm", _l("A letter of hardship (SKTM) from the desa/kelurahan")),
            ),
        ),
        Reason(
            "EXC-DICORET",
            Kind.SANGGAHAN,
            Subject.OWN,
            _l("Removed but still eligible"),
            _l(
                "We were removed from the data or a program, but our situation has not changed, "
                "or my NIK may have been misused."
            ),
            (
                ("old_card", _l("A KKS/KPM card or proof of earlier payments")),
                ("unchanged", _l("Our situation is the same as before")),
                ("nik_misused", _l("My NIK may have been used by someone else")),
            ),
        ),
        Reason(
            "ERR-DATA",
            Kind.SANGGAHAN,
            Subject.OWN,
            _l("Wrong personal data"),
            _l("A wrong name, date of birth, family member or address."),
            (
                ("kk", _l("Our current family card")),
                ("ktp", _l("KTP of the person concerned")),
                ("birth_certificate", _l("Birth certificate")),
            ),
        ),
        Reason(
            "EXC-TIDAK-TERDATA",
            Kind.USULAN,
            Subject.PROPOSED,
            _l("A household is not in DTSEN"),
            _l("Propose my household, or another household, for inclusion in DTSEN."),
        ),
        Reason(
            "USUL-PROGRAM",
            Kind.USULAN,
            Subject.PROPOSED,
            _l("Propose a household for a program"),
            _l("The household is in DTSEN at desil 1 to 5 but does not receive a program."),
        ),
        Reason(
            "USUL-AHLI-WARIS",
            Kind.USULAN,
            Subject.PROPOSED,
            _l("Replace a deceased recipient with an heir"),
            _l("A recipient has died; an heir in the same family card should receive instead."),
        ),
    )
}


def for_kind(kind: Kind) -> list[Reason]:
    return [r for r in REASONS.values() if r.kind is kind]


# What an usulan may propose: the programs with a desil range (not an ad-hoc BLT), but those
# given after a social worker's assessment (ATENSI), as the result page tells the family
PROPOSABLE_PROGRAMS = tuple(
    code for code, p in PROGRAMS.items() if p.max_desil is not None and not p.by_assessment
)

# Usulan questions: field -> (label, ((value, label), ...)). Values are stable codes.
CONDITIONS: dict[str, tuple[object, tuple[tuple[str, object], ...]]] = {
    "work": (
        _l("Main work of the head of the household"),
        (
            ("none", _l("No work")),
            ("casual", _l("Casual or day labour")),
            ("farm", _l("Farming, fishing or livestock")),
            ("trade", _l("Small trade or own business")),
            ("employee", _l("Employee with a regular wage")),
        ),
    ),
    "income": (
        _l("Household income per month"),
        (
            ("lt1", _l("Less than Rp 1 million")),
            ("1to2", _l("Rp 1 million to less than Rp 2 million")),
            ("2to3", _l("Rp 2 million to Rp 3 million")),
            ("gt3", _l("More than Rp 3 million")),
        ),
    ),
    "floor": (
        _l("Main floor of the house"),
        (
            ("earth", _l("Earth")),
            ("bamboo_wood", _l("Bamboo or low-quality wood")),
            ("cement", _l("Cement or bricks")),
            ("tiles", _l("Tiles, ceramic or good wood")),
        ),
    ),
    "walls": (
        _l("Main walls of the house"),
        (
            ("bamboo", _l("Bamboo, thatch or boards")),
            ("unplastered", _l("Unplastered brick")),
            ("plastered", _l("Plastered brick or concrete")),
        ),
    ),
    "water": (
        _l("Main source of drinking water"),
        (
            ("unprotected", _l("Unprotected well, spring, river or rain")),
            ("protected", _l("Protected well or spring")),
            ("piped", _l("Piped water (PAM/PDAM)")),
            ("bottled", _l("Bottled or refill water")),
        ),
    ),
    "electricity": (
        _l("Electricity"),
        (
            ("none", _l("No electricity, or shared from a neighbour")),
            ("450", _l("PLN 450 VA")),
            ("900", _l("PLN 900 VA")),
            ("more", _l("PLN more than 900 VA")),
        ),
    ),
    "sanitation": (
        _l("Toilet"),
        (
            ("none", _l("None (open field, river)")),
            ("shared", _l("Shared or public toilet")),
            ("own", _l("Own toilet")),
        ),
    ),
}

# What staff choose from when deciding (shown to the citizen with the officer's note).
DECISION_REASONS: dict[str, object] = {
    "verified_in_field": _l("Confirmed by a field check"),
    "documents_confirm": _l("Confirmed by the documents"),
    "not_confirmed_in_field": _l("Not confirmed by a field check"),
    "documents_insufficient": _l("The documents do not show it"),
    "already_corrected": _l("The data had already been corrected"),
    "outside_criteria": _l("The household does not meet the program criteria"),
    "duplicate_case": _l("Already handled under another ticket"),
    "other": _l("Other reason (see the officer's note)"),
}
