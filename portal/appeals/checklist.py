"""What a desa operator checks in the field (verval), per reason code: one definition drives
the operator's task page (a question each, answered yes / no / could not check), the answers
kept with the field check's result (``FieldCheck.checklist``) and the lines the verifikator
reads on the case page. The questions sit beside the filer's (portal/appeals/questions.py):
the operator checks on the ground what the filer claimed.

An answer is optional: what the operator could not ask is left unanswered, and the case page
says so. The answers are kept by item key; a key no longer defined is still shown, with its
key (``lines``), so an old result never loses what was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.appeals.reasons import REASONS


@dataclass(frozen=True)
class Item:
    key: str  # the form field's suffix and the key in the recorded answers
    question: object  # lazy string


ANSWERS: dict[str, object] = {
    "yes": _l("Yes"),
    "no": _l("No"),
    "unknown": _l("Could not check"),
}

_LIVES_HERE = Item("lives_here", _l("Does the household live at this address?"))
_RT_CONFIRMS = Item("rt_confirms", _l("Do the RT/RW or the neighbours confirm the report?"))
# the house and assets, as DTSEN scores them (for a desil that may be wrong either way)
_HOUSE = (
    Item("floor", _l("Is the floor of the house tiled or ceramic (not earth or bamboo)?")),
    Item("walls", _l("Are the walls brick or concrete (not bamboo, wood or board)?")),
    Item("roof", _l("Is the roof tile, concrete or metal in good condition?")),
    Item("water_toilet", _l("Does the house have its own clean water and its own toilet?")),
    Item("assets", _l("Does the household own a car, several motorbikes, land or livestock?")),
)

CHECKLISTS: dict[str, tuple[Item, ...]] = {
    "INC-ASN": (
        Item(
            "asn",
            _l("Is anyone in the household ASN, TNI, Polri, an official or BUMN/BUMD staff?"),
        ),
        Item("proof_seen", _l("Did you see a uniform, staff card, payslip or appointment letter?")),
        _RT_CONFIRMS,
    ),
    "INC-MAMPU": (
        Item("big_house", _l("Is the house large or well built compared with the neighbours?")),
        *_HOUSE,
        Item("business", _l("Does the household run a shop or business, or rent out property?")),
        _RT_CONFIRMS,
    ),
    "INC-MENINGGAL": (
        Item("died", _l("Has the person concerned died?")),
        Item("death_proof", _l("Did you see a death certificate or a letter from the desa?")),
        _RT_CONFIRMS,
    ),
    "INC-PINDAH": (
        _LIVES_HERE,
        Item("house_empty", _l("Is the house empty or lived in by others?")),
        Item("moved_proof", _l("Did you see a letter of moving (surat pindah)?")),
        _RT_CONFIRMS,
    ),
    "INC-GANDA": (
        Item("same_person", _l("Is the same person or household listed twice?")),
        Item("kk_seen", _l("Did you see the family card(s) of the household?")),
    ),
    "INC-SELF": (
        Item("improved", _l("Has the household's situation clearly improved?")),
        Item("steady_income", _l("Does someone in the household have steady work or income?")),
    ),
    "EXC-DESIL-SALAH": (
        _LIVES_HERE,
        *_HOUSE,
        Item("income_lost", _l("Has the household lost a job or its income recently?")),
        Item("illness", _l("Is anyone seriously ill or disabled?")),
        Item("sktm", _l("Did you see a letter of hardship (SKTM)?")),
    ),
    "EXC-DICORET": (
        _LIVES_HERE,
        Item("unchanged", _l("Is the household's situation the same as before?")),
        *_HOUSE,
    ),
    "ERR-DATA": (
        Item("kk_seen", _l("Did you see the household's current family card?")),
        Item("kk_matches", _l("Does the family card show what the report says?")),
    ),
    "EXC-TIDAK-TERDATA": (
        _LIVES_HERE,
        *_HOUSE,
        Item("kk_seen", _l("Did you see the household's family card?")),
    ),
    "USUL-PROGRAM": (
        _LIVES_HERE,
        *_HOUSE,
        Item("no_program", _l("Does the household really receive none of the programs?")),
    ),
    "USUL-AHLI-WARIS": (
        Item("died", _l("Has the recipient died?")),
        Item("death_proof", _l("Did you see a death certificate or a letter from the desa?")),
        Item("heir_on_kk", _l("Is the proposed heir on the same family card?")),
    ),
}

if set(CHECKLISTS) != set(REASONS):  # pragma: no cover - a definition error, caught on import
    raise RuntimeError("every reason code needs its field checklist")


def items(reason_code: str) -> tuple[Item, ...]:
    return CHECKLISTS.get(reason_code, ())


def field_name(item: Item) -> str:
    return f"cek_{item.key}"


def clean(reason_code: str, raw: dict[str, object]) -> dict[str, str]:
    """The answers worth keeping: defined items of the reason, with a defined answer."""
    return {
        item.key: str(raw[item.key]) for item in items(reason_code) if raw.get(item.key) in ANSWERS
    }


@dataclass(frozen=True)
class Line:
    question: str
    answer: str
    key: str
    value: str | None  # yes | no | unknown, or None: not answered


def lines(reason_code: str, answers: dict[str, str] | None) -> list[Line]:
    """Each question of the reason with what the operator answered (or not), then any
    recorded answer whose item is no longer defined."""
    answers = answers or {}
    shown = [
        Line(
            str(item.question),
            str(ANSWERS[answers[item.key]]) if answers.get(item.key) in ANSWERS else "",
            item.key,
            answers.get(item.key) if answers.get(item.key) in ANSWERS else None,
        )
        for item in items(reason_code)
    ]
    known = {item.key for item in items(reason_code)}
    shown += [
        Line(key, str(ANSWERS.get(value, value)), key, value)
        for key, value in answers.items()
        if key not in known
    ]
    return shown
