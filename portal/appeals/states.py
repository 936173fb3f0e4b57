"""Case states as data: titles, CSS classes and the allowed moves (DOMAIN.md "Cases").

Every change of state goes through ``service.transition()``, which refuses any move that is
not in ALLOWED and records who made it, when, and the state before and after.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class AppealStatus(StrEnum):
    DITERIMA = "diterima"  # received
    VERIFIKASI = "verifikasi"  # in review, may wait on field verval
    DISETUJUI = "disetujui"  # approved
    DITOLAK = "ditolak"  # rejected
    DUPLIKAT = "duplikat"  # duplicate of another ticket
    DIBATALKAN = "dibatalkan"  # withdrawn by the filer
    DITERUSKAN = "diteruskan"  # exported to Pusdatin
    SELESAI = "selesai"  # reflected in a later snapshot


S = AppealStatus

ALLOWED: dict[AppealStatus, frozenset[AppealStatus]] = {
    S.DITERIMA: frozenset({S.VERIFIKASI, S.DIBATALKAN}),
    S.VERIFIKASI: frozenset({S.DISETUJUI, S.DITOLAK, S.DUPLIKAT, S.DIBATALKAN}),
    S.DISETUJUI: frozenset({S.DITERUSKAN}),
    S.DITOLAK: frozenset(),
    S.DUPLIKAT: frozenset(),
    S.DIBATALKAN: frozenset(),
    S.DITERUSKAN: frozenset({S.SELESAI}),
    S.SELESAI: frozenset(),
}

OPEN = frozenset({S.DITERIMA, S.VERIFIKASI})  # not yet decided: the filer may withdraw
DECIDED = frozenset({S.DISETUJUI, S.DITOLAK, S.DUPLIKAT})  # a decision that can be contested
# Moves the filer is told about by SMS/e-mail (the outbox): the receipt and every move after
# review. Not "in review": an officer taking a case is a step of the queue (claimed, maybe
# released), and the filer hears of the decision soon after (issue 13: filed, then decided,
# is two messages).
ANNOUNCED = frozenset(ALLOWED) - {S.VERIFIKASI}

# The status a filer and the staff read. In Indonesian, "diterima" is kept for programs a
# family receives (the look-up result), so no status title uses it.
TITLES = {
    # Translators: status of a case just sent, waiting for an officer. Not "Diterima": that
    # word means a program is received. E.g. "Terkirim".
    S.DITERIMA: _l("Received"),
    S.VERIFIKASI: _l("In review"),
    S.DISETUJUI: _l("Approved"),
    S.DITOLAK: _l("Rejected"),
    S.DUPLIKAT: _l("Duplicate"),
    # Translators: the filer took the case back. E.g. "Ditarik" (not "Dibatalkan").
    S.DIBATALKAN: _l("Withdrawn"),
    S.DITERUSKAN: _l("Forwarded to Kemensos"),
    S.SELESAI: _l("Done"),
}

CSS = {
    S.DITERIMA: "status--open",
    S.VERIFIKASI: "status--open",
    S.DISETUJUI: "status--ok",
    S.DITOLAK: "status--no",
    S.DUPLIKAT: "status--no",
    S.DIBATALKAN: "status--closed",
    S.DITERUSKAN: "status--ok",
    S.SELESAI: "status--ok",
}

# What the filer reads under each step of the timeline.
EXPLANATIONS = {
    S.DITERIMA: _l("Your case was received and is waiting for an officer of Dinas Sosial."),
    S.VERIFIKASI: _l(
        "An officer is checking your case. This may include a visit by a village social worker."
    ),
    S.DISETUJUI: _l("Your case was approved. It will be sent to Kemensos for the next update."),
    S.DITOLAK: _l("Your case was rejected. The reason is below."),
    S.DUPLIKAT: _l("Your case repeats another case that is already being handled."),
    S.DIBATALKAN: _l("The case was withdrawn."),
    S.DITERUSKAN: _l("The change was sent to Kemensos (Pusdatin) for the next quarterly update."),
    S.SELESAI: _l("The change appears in the latest DTSEN data."),
}
