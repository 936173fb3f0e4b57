"""The proof of "find my cases": NIK + No. KK, as at the look-up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.forms import BaseForm, HoneypotMixin, KKField, NIKField


class MyCasesForm(HoneypotMixin, BaseForm):
    nik = NIKField(
        _l("NIK"),
        description=_l("16 digits: the NIK you filed with, on your KTP and family card."),
    )
    no_kk = KKField(
        _l("No. KK"),
        description=_l("16 digits, at the top of your family card (Kartu Keluarga)."),
    )
