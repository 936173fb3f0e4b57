"""Translated labels for desil bands, programs, where a household stands with a program, and
family relations."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core.programs import PROGRAMS, Standing
from portal.pages import translated

DESIL_LABELS = {
    1: _l("very poor"),
    2: _l("poor"),
    3: _l("near poor"),
    4: _l("vulnerable"),
    5: _l("lower middle"),
}
DESIL_WELL_OFF = _l("upper middle / well-off")


def desil_label(desil: int) -> str:
    return translated(DESIL_LABELS.get(desil, DESIL_WELL_OFF))


PROGRAM_NAMES = {
    "PKH": _l("PKH (Program Keluarga Harapan): conditional cash assistance for the family"),
    "BPNT": _l("BPNT / Sembako: monthly food assistance for the family"),
    "PBI-JK": _l("PBI-JK: JKN health insurance paid by the state"),
    "PIP": _l("PIP (Program Indonesia Pintar): school assistance for pupils"),
    "ATENSI": _l("ATENSI: social rehabilitation support, after an assessment"),
    "BLT": _l("BLT: direct cash assistance"),
}

# "sudah menerima / belum menerima": never "diterima", which also names a case's first state.
STANDING_TAGS = {
    Standing.RECEIVED: _l("received"),
    Standing.NOT_RECEIVED: _l("not yet received"),
    Standing.NO_ONE_ELIGIBLE: _l("does not apply to your family"),
    Standing.BY_ASSESSMENT: _l("by assessment"),
}


def standing_note(code: str, standing: Standing) -> str | None:
    """Why a program that is not received is not something to propose, or None."""
    ages = PROGRAMS[code].ages
    if standing is Standing.NO_ONE_ELIGIBLE and ages is not None:
        return _(
            "Only for family members aged %(low)d to %(high)d: nobody in your family is that age.",
            low=ages.start,
            high=ages.stop - 1,
        )
    if standing is Standing.BY_ASSESSMENT:
        return _(
            "Social workers give it after assessing a family's needs; it is not asked for with "
            "an usulan. If your family needs it, ask the pendamping PKH, the desa/kelurahan "
            "office or the Dinas Sosial."
        )
    return None


HUBUNGAN_LABELS = {
    "KEPALA KELUARGA": _l("Head of family"),
    "ISTRI": _l("Wife"),
    "SUAMI": _l("Husband"),
    "ANAK": _l("Child"),
    "MENANTU": _l("Child-in-law"),
    "CUCU": _l("Grandchild"),
    "ORANG TUA": _l("Parent"),
    "MERTUA": _l("Parent-in-law"),
    "FAMILI LAIN": _l("Other relative"),
    "LAINNYA": _l("Other"),
}
