"""Translated labels for desil bands, programs and family relations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

DESIL_LABELS = {
    1: _l("very poor"),
    2: _l("poor"),
    3: _l("near poor"),
    4: _l("vulnerable"),
    5: _l("lower middle"),
}
DESIL_WELL_OFF = _l("upper middle / well-off")


def desil_label(desil: int) -> str:
    return str(DESIL_LABELS.get(desil, DESIL_WELL_OFF))


PROGRAM_NAMES = {
    "PKH": _l("PKH (Program Keluarga Harapan): conditional cash assistance for the family"),
    "BPNT": _l("BPNT / Sembako: monthly food assistance for the family"),
    "PBI-JK": _l("PBI-JK: JKN health insurance paid by the state"),
    "PIP": _l("PIP (Program Indonesia Pintar): school assistance for pupils"),
    "ATENSI": _l("ATENSI: social rehabilitation support, after an assessment"),
    "BLT": _l("BLT: direct cash assistance"),
}

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
