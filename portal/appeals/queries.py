"""Reads shaped for pages: the check-answers summary and the filer's timeline.

Numbers are masked here: a page never shows a full NIK or No. KK, not even to the filer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal import db
from portal.appeals.journey import steps
from portal.appeals.models import Appeal, AppealPhoto
from portal.appeals.reasons import CONDITIONS, DECISION_REASONS, REASONS, Kind
from portal.appeals.states import DECIDED, EXPLANATIONS, TITLES, AppealStatus
from portal.core.names import mask_name
from portal.core.nik import mask_nik
from portal.i18n.filters import period_label
from portal.lookup.labels import PROGRAM_NAMES
from portal.wilayah import queries as wilayah


@dataclass(frozen=True)
class Row:
    question: str
    answer: list[str]
    slug: str


def filer_found(period: str | None) -> str:
    """The filer proven in DTSEN, with the period their household is registered in (for a
    household removed in the last update, the last period it was in)."""
    if not period:
        return _("Found in DTSEN")
    return _("Found in DTSEN: registered in %(period)s", period=period_label(period))


def _choice(choices: tuple[tuple[str, object], ...], value: str) -> str:
    return str(dict(choices).get(value, value))


def summarise(kind: Kind, answers: dict[str, Any], photos: list[AppealPhoto]) -> list[Row]:
    rows: list[Row] = []
    for step in steps(kind, answers):
        a = answers.get(step.slug) or {}
        if step.slug == "alasan":
            lines = [str(REASONS[a["reason"]].title)] if a else []
        elif step.slug == "pelapor":
            lines = [
                _("NIK %(nik)s", nik=mask_nik(a.get("nik", ""))),
                _("No. KK %(kk)s", kk=mask_nik(a.get("no_kk", ""))),
                filer_found(a.get("period"))
                if a.get("verified")
                else _("Not found in DTSEN: staff will take this into account"),
            ]
        elif step.slug == "subjek":
            lines = [_("My own household")] if a.get("whose") == "own" else _other_household(a)
        elif step.slug == "rincian":
            reason = REASONS[answers["alasan"]["reason"]]
            lines = [_choice(reason.evidence, e) for e in a.get("evidence", [])] + [
                a.get("note", "")
            ]
        elif step.slug == "rumah-tangga":
            lines = [
                _("No. KK %(kk)s", kk=mask_nik(a.get("no_kk", ""))),
                _("Head of household: NIK %(nik)s", nik=mask_nik(a.get("head_nik", ""))),
                a.get("alamat", ""),
            ]
        elif step.slug == "desa":
            lines = [label for _code, label in wilayah.describe([a["desa"]])] if a else []
        elif step.slug == "program":
            lines = [str(PROGRAM_NAMES.get(p, p)) for p in a.get("programs", [])]
        elif step.slug == "kondisi":
            lines = [
                f"{label}: {_choice(choices, a.get(key, ''))}"
                for key, (label, choices) in CONDITIONS.items()
                if key in a
            ]
        elif step.slug == "ahli-waris":
            lines = [
                _("Recipient who died: NIK %(nik)s", nik=mask_nik(a.get("deceased_nik", ""))),
                _("Heir: NIK %(nik)s", nik=mask_nik(a.get("heir_nik", ""))),
            ]
        elif step.slug == "foto":
            lines = [_("%(num)d photo(s)", num=len(photos)) if photos else _("No photos")]
        elif step.slug == "kontak":
            lines = [v for v in (a.get("phone"), a.get("email")) if v] or [
                _("No contact: follow the case with its ticket number")
            ]
        else:
            lines = []
        rows.append(Row(str(step.title), [line for line in lines if line], step.slug))
    return rows


def address_line(alamat: str | None, rt: str | None, rw: str | None) -> str:
    """An address with its RT/RW written the way DTSEN writes them: "KP. BARU RT 002/RW 005"."""
    parts = [alamat or ""]
    if rt or rw:
        parts.append(f"RT {rt or '-'}/RW {rw or '-'}")
    return " ".join(p for p in parts if p)


def _other_household(a: dict[str, Any]) -> list[str]:
    """Another household as the filer described it. The name is masked like every name on a
    public page (a shared phone shows this page to whoever holds it next)."""
    lines = [_("Another household")]
    if a.get("subject_name"):
        lines.append(_("Name: %(name)s", name=mask_name(a["subject_name"])))
    address = address_line(a.get("subject_alamat"), a.get("subject_rt"), a.get("subject_rw"))
    if address:
        lines.append(_("Address: %(address)s", address=address))
    if a.get("desa"):
        lines += [label for _code, label in wilayah.describe([a["desa"]])]
    if a.get("subject_nik"):
        lines.append(_("NIK %(nik)s", nik=mask_nik(a["subject_nik"])))
    elif "subject_name" in a:
        lines.append(_("NIK not given"))
    return lines


@dataclass(frozen=True)
class Entry:
    at: datetime
    status: AppealStatus
    title: str
    explanation: str
    reason: str | None = None
    note: str | None = None


def timeline(appeal: Appeal) -> list[Entry]:
    """What the filer sees: each move with its date; the written reason for decisions and
    the system's note on a case closed because a new period reflects it. Internal notes of
    other moves are staff-only and never shown here."""
    entries = []
    for event in appeal.events:
        status = AppealStatus(event.to_status)
        reason = note = None
        if status in DECIDED:
            reason = str(DECISION_REASONS.get(appeal.decision_reason or "", "")) or None
            note = appeal.decision_note
        elif status is AppealStatus.SELESAI and event.actor == "system":
            note = event.note  # what the new period shows (portal/appeals/reflected.py)
        entries.append(
            Entry(event.at, status, str(TITLES[status]), str(EXPLANATIONS[status]), reason, note)
        )
    return entries


def get_appeal(appeal_id: int) -> Appeal | None:
    return db.session.get(Appeal, appeal_id)


def contest_of(appeal: Appeal) -> Appeal | None:
    return db.session.scalar(select(Appeal).where(Appeal.contests_id == appeal.id))
