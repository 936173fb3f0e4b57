"""The look-up form: NIK + No. KK (the KK proves the person holds the family card)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.forms import BaseForm, HoneypotMixin, KKField, NIKField


class LookupForm(HoneypotMixin, BaseForm):
    nik = NIKField(
        _l("NIK"),
        description=_l("16 digits, on your KTP and on the family card. Spaces are fine."),
    )
    no_kk = KKField(
        _l("No. KK"),
        description=_l("16 digits, at the top of your family card (Kartu Keluarga)."),
    )
