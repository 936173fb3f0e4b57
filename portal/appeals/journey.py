"""The question pages of each kind of case, as data: which steps, in which order, and which
apply given the answers so far. Views walk this list; nothing else knows the order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.appeals.reasons import REASONS, Kind, Subject

CHECK = "periksa"


def _reason(answers: dict[str, Any]) -> str | None:
    return (answers.get("alasan") or {}).get("reason")


def _always(_answers: dict[str, Any]) -> bool:
    return True


def _subject_either(answers: dict[str, Any]) -> bool:
    code = _reason(answers)
    return code is not None and REASONS[code].subject is Subject.EITHER


def _is_heir(answers: dict[str, Any]) -> bool:
    return _reason(answers) == "USUL-AHLI-WARIS"


def _not_heir(answers: dict[str, Any]) -> bool:
    return not _is_heir(answers)


@dataclass(frozen=True)
class Step:
    slug: str
    title: object
    applies: Callable[[dict[str, Any]], bool] = _always
    optional: bool = False  # may be left with no answer (photos)


STEPS: dict[Kind, tuple[Step, ...]] = {
    Kind.SANGGAHAN: (
        Step("alasan", _l("What is your sanggahan about?")),
        Step("pelapor", _l("Who is filing")),
        Step("subjek", _l("Whose data is it about?"), _subject_either),
        Step("rincian", _l("Tell us what you know")),
        Step("foto", _l("Photos"), optional=True),
        Step("kontak", _l("How can an officer reach you?")),
    ),
    Kind.USULAN: (
        Step("alasan", _l("What do you propose?")),
        Step("pelapor", _l("Who is filing")),
        Step("rumah-tangga", _l("The household")),
        Step("desa", _l("Where the household lives")),
        Step("program", _l("Programs"), _not_heir),
        Step("kondisi", _l("The household's situation"), _not_heir),
        Step("ahli-waris", _l("Recipient and heir"), _is_heir),
        Step("foto", _l("Photos"), optional=True),
        Step("kontak", _l("How can an officer reach you?")),
    ),
}


def steps(kind: Kind, answers: dict[str, Any]) -> list[Step]:
    return [s for s in STEPS[kind] if s.applies(answers)]


def get(kind: Kind, slug: str) -> Step | None:
    return next((s for s in STEPS[kind] if s.slug == slug), None)


def first_missing(kind: Kind, answers: dict[str, Any]) -> str | None:
    """The first step that applies and has no answer yet; None when all are answered."""
    for step in steps(kind, answers):
        if step.slug not in answers and not step.optional:
            return step.slug
    return None


def next_slug(kind: Kind, answers: dict[str, Any], current: str) -> str:
    """Where to go after CURRENT: the next applicable step, or the check page."""
    order = steps(kind, answers)
    slugs = [s.slug for s in order]
    if current in slugs:
        for step in order[slugs.index(current) + 1 :]:
            return step.slug
    return CHECK


def previous_slug(kind: Kind, answers: dict[str, Any], current: str) -> str | None:
    slugs = [s.slug for s in steps(kind, answers)]
    if current == CHECK:
        return slugs[-1]
    if current in slugs and slugs.index(current) > 0:
        return slugs[slugs.index(current) - 1]
    return None


def reachable(kind: Kind, answers: dict[str, Any], slug: str) -> bool:
    """A step may be opened once every step before it is answered (no skipping ahead)."""
    for step in steps(kind, answers):
        if step.slug == slug:
            return True
        if step.slug not in answers and not step.optional:
            return False
    return slug == CHECK and first_missing(kind, answers) is None
