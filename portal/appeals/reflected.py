"""Auto-``selesai``: a forwarded (``diteruskan``) case whose requested change shows in the
published data moves to ``selesai``, with a note the filer reads on the tracking page.

Runs right after a period is published (``close_reflected``, called by the import once the
publication has committed, and again by ``flask dtsen reflect``), in its own transaction:
a case move must never hold back or undo a publication, and the rules read only published
data, so running it again later closes exactly what it would have closed then.

"Reflected" is decided per reason code from the newest published period (its households and
persons) and from the change rows of the periods published after the case was filed
(portal/dataimport/history.py; "since filing" = periods after ``Appeal.period``):

- EXC-TIDAK-TERDATA (household not in DTSEN): the proposed No. KK is a household now.
- USUL-PROGRAM: the household is in the data and every proposed program is received by a
  member now.
- USUL-AHLI-WARIS: the deceased is no longer on the family card and the heir is on it and
  receives a program now.
- INC-ASN, INC-MAMPU, INC-SELF (recipient not eligible / graduasi mandiri): the household is
  no longer in the data, or none of its members receives a program now.
- INC-MENINGGAL: the NIK reported is in no household now; reported without a NIK, the
  household is gone or a member left it or was removed since filing.
- INC-PINDAH: the household is gone, or it moved (another desa or address) since filing, or
  the NIK reported is no longer on that family card.
- INC-GANDA: the NIK reported is no longer on that family card (or in no household, when
  no card was linked), or the household is gone.
- EXC-DESIL-SALAH (desil too high): the household's desil now is lower than when the case
  was filed (the desil before the first desil change since filing).
- EXC-DICORET (removed but still eligible): the household is in the data and, since filing,
  it was added back or a member gained a program.
- ERR-DATA (wrong name, birth date, membership, address): the household is in the data and,
  since filing, a member's data was corrected, a member joined, left, was added or removed,
  or the address changed. The change rows do not say *which* field changed, so this is
  "the household's data was corrected", not proof that the very error was fixed.

A case that needs a household or person the staff never linked (no No. KK or NIK known)
is never closed by these rules; staff see how many periods it has waited
(``waiting_periods``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, distinct, exists, func, not_, or_, select

from portal import db
from portal.appeals.errors import InvalidTransition
from portal.appeals.models import Appeal, AppealEvent
from portal.appeals.service import transition
from portal.appeals.states import AppealStatus
from portal.audit.service import record
from portal.dataimport import queries as snapshot_queries
from portal.dataimport.models import (
    Household,
    HouseholdChange,
    Person,
    PersonChange,
    Snapshot,
    SnapshotStatus,
)
from portal.i18n.filters import period_label

FORWARDED = AppealStatus.DITERUSKAN.value
MAX_ATTEMPTS = 3

# What the filer reads on the tracking page (in their language, as notifications are).
NOTES: dict[str, Any] = {
    "EXC-TIDAK-TERDATA": _l("The household is in the DTSEN data of %(period)s."),
    "USUL-PROGRAM": _l(
        "The DTSEN data of %(period)s shows the household receiving the programs proposed."
    ),
    "USUL-AHLI-WARIS": _l(
        "The DTSEN data of %(period)s no longer lists the deceased recipient, and the heir "
        "receives assistance."
    ),
    "INC-ASN": _l("The DTSEN data of %(period)s shows the household no longer receiving bansos."),
    "INC-MAMPU": _l("The DTSEN data of %(period)s shows the household no longer receiving bansos."),
    "INC-SELF": _l("The DTSEN data of %(period)s shows the household no longer receiving bansos."),
    "INC-MENINGGAL": _l("The DTSEN data of %(period)s no longer lists the person who died."),
    "INC-PINDAH": _l("The DTSEN data of %(period)s shows the move."),
    "INC-GANDA": _l("The DTSEN data of %(period)s no longer has the duplicate record."),
    "EXC-DESIL-SALAH": _l(
        "The desil in the DTSEN data of %(period)s is lower than when the case was filed."
    ),
    "EXC-DICORET": _l(
        "The DTSEN data of %(period)s shows the household back in DTSEN or receiving a "
        "program again."
    ),
    "ERR-DATA": _l("The DTSEN data of %(period)s has corrected data for the household."),
}


def _since_filing(snapshot_id: Any) -> ColumnElement[bool]:
    """The change rows of a period published after the case was filed."""
    return exists().where(
        Snapshot.id == snapshot_id,
        Snapshot.status == SnapshotStatus.PUBLISHED,
        or_(Appeal.period.is_(None), Snapshot.period > Appeal.period),
    )


def _household_change(*kinds: str) -> ColumnElement[bool]:
    return exists().where(
        HouseholdChange.kk_hmac == Appeal.subject_kk_hmac,
        HouseholdChange.kind.in_(kinds),
        _since_filing(HouseholdChange.snapshot_id),
    )


def _member_change(*kinds: str) -> ColumnElement[bool]:
    return exists().where(
        PersonChange.kk_hmac == Appeal.subject_kk_hmac,
        PersonChange.kind.in_(kinds),
        _since_filing(PersonChange.snapshot_id),
    )


def _rules(current: int) -> dict[str, ColumnElement[bool]]:
    kk, nik = Appeal.subject_kk_hmac, Appeal.subject_nik_hmac
    household_now = exists().where(Household.snapshot_id == current, Household.kk_hmac == kk)
    receives_now = exists().where(
        Person.snapshot_id == current, Person.kk_hmac == kk, Person.programs != ""
    )
    person_now = exists().where(Person.snapshot_id == current, Person.nik_hmac == nik)
    on_card_now = exists().where(
        Person.snapshot_id == current, Person.nik_hmac == nik, Person.kk_hmac == kk
    )
    not_receiving = and_(kk.is_not(None), or_(not_(household_now), not_(receives_now)))
    desil_now = (
        select(Household.desil)
        .where(Household.snapshot_id == current, Household.kk_hmac == kk)
        .scalar_subquery()
    )
    desil_when_filed = (
        select(HouseholdChange.desil_from)
        .join(Snapshot, Snapshot.id == HouseholdChange.snapshot_id)
        .where(
            HouseholdChange.kk_hmac == kk,
            HouseholdChange.kind == "desil",
            Snapshot.status == SnapshotStatus.PUBLISHED,
            or_(Appeal.period.is_(None), Snapshot.period > Appeal.period),
        )
        .order_by(Snapshot.period)
        .limit(1)
        .scalar_subquery()
    )
    return {
        "EXC-TIDAK-TERDATA": household_now,
        "USUL-PROGRAM": household_now,  # and the programs: see _programs_received
        "USUL-AHLI-WARIS": household_now,  # and the heir: see _heir_in_place
        "INC-ASN": not_receiving,
        "INC-MAMPU": not_receiving,
        "INC-SELF": not_receiving,
        "INC-MENINGGAL": or_(
            and_(nik.is_not(None), not_(person_now)),
            and_(
                nik.is_(None),
                kk.is_not(None),
                or_(not_(household_now), _member_change("removed", "left")),
            ),
        ),
        "INC-PINDAH": and_(
            kk.is_not(None),
            or_(
                not_(household_now),
                _household_change("moved"),
                and_(nik.is_not(None), not_(on_card_now)),
            ),
        ),
        "INC-GANDA": or_(
            and_(nik.is_not(None), kk.is_not(None), not_(on_card_now)),
            and_(nik.is_not(None), kk.is_(None), not_(person_now)),
            and_(kk.is_not(None), not_(household_now)),
        ),
        "EXC-DESIL-SALAH": and_(household_now, desil_now < desil_when_filed),
        "EXC-DICORET": and_(
            household_now, or_(_household_change("added"), _member_change("program_gained"))
        ),
        "ERR-DATA": and_(
            household_now,
            or_(
                _household_change("moved"),
                _member_change("data", "joined", "left", "added", "removed"),
            ),
        ),
    }


def _programs_received(cases: list[Appeal], current: int) -> list[Appeal]:
    """USUL-PROGRAM: every proposed program is received by a member now (one query)."""
    if not cases:
        return []
    rows = db.session.execute(
        select(Person.kk_hmac, Person.programs).where(
            Person.snapshot_id == current, Person.kk_hmac.in_({a.subject_kk_hmac for a in cases})
        )
    ).all()
    received: dict[str, set[str]] = {}
    for kk, programs in rows:
        received.setdefault(kk, set()).update(p for p in programs.split(";") if p)
    return [
        a
        for a in cases
        if (wanted := set((a.details or {}).get("programs") or []))
        and wanted <= received.get(a.subject_kk_hmac or "", set())
    ]


def _heir_in_place(cases: list[Appeal], current: int) -> list[Appeal]:
    """USUL-AHLI-WARIS: the deceased is off the card, the heir on it with a program now."""
    people: dict[int, tuple[str, str]] = {}
    for a in cases:
        heir = (a.details or {}).get("heir") or {}
        if heir.get("heir_nik") and heir.get("deceased_nik"):
            people[a.id] = (
                snapshot_queries.pseudonym(heir["heir_nik"], "nik"),
                snapshot_queries.pseudonym(heir["deceased_nik"], "nik"),
            )
    if not people:
        return []
    wanted = {h for pair in people.values() for h in pair}
    found = {
        nik: (kk, programs)
        for nik, kk, programs in db.session.execute(
            select(Person.nik_hmac, Person.kk_hmac, Person.programs).where(
                Person.snapshot_id == current, Person.nik_hmac.in_(wanted)
            )
        ).all()
    }
    reflected = []
    for a in cases:
        if a.id not in people:
            continue
        heir, deceased = people[a.id]
        heir_row = found.get(heir)
        deceased_row = found.get(deceased)
        if (
            heir_row is not None
            and heir_row[0] == a.subject_kk_hmac
            and heir_row[1]
            and (deceased_row is None or deceased_row[0] != a.subject_kk_hmac)
        ):
            reflected.append(a)
    return reflected


def reflected_cases(current: int) -> list[Appeal]:
    """The forwarded cases that the published data (newest snapshot CURRENT) reflects."""
    # most imports find no forwarded case at all: one indexed probe instead of a query
    # (and its compilation) per reason code
    if db.session.scalar(select(Appeal.id).where(Appeal.status == FORWARDED).limit(1)) is None:
        return []
    found: list[Appeal] = []
    for code, condition in _rules(current).items():
        cases = list(
            db.session.scalars(
                select(Appeal)
                .where(Appeal.status == FORWARDED, Appeal.reason_code == code, condition)
                .order_by(Appeal.id)
            )
        )
        if code == "USUL-PROGRAM":
            cases = _programs_received(cases, current)
        elif code == "USUL-AHLI-WARIS":
            cases = _heir_in_place(cases, current)
        found.extend(cases)
    return sorted(found, key=lambda a: a.id)  # id order: concurrent runs lock alike


def _close(current: Snapshot) -> list[Appeal]:
    closed = reflected_cases(current.id)
    for appeal in closed:
        with force_locale(appeal.filer_locale or "id"):
            note = str(NOTES[appeal.reason_code]) % {"period": period_label(current.period)}
        # conditional on the case still being forwarded: a concurrent run that closed it
        # first makes this raise InvalidTransition (after rolling this attempt back)
        transition(appeal, AppealStatus.SELESAI, actor="system", note=note)
        record(
            "auto_selesai",
            staff=None,
            target_type="appeal",
            target_id=appeal.id,
            before={"status": FORWARDED},
            after={"status": AppealStatus.SELESAI.value, "period": current.period},
            reason=note,
        )
    db.session.commit()
    return closed


def close_reflected() -> list[Appeal]:
    """Move every forwarded case the newest published period reflects to ``selesai``, with
    an audit row by the system; one transaction. Returns the cases moved."""
    current = db.session.scalar(
        select(Snapshot)
        .where(Snapshot.status == SnapshotStatus.PUBLISHED)
        .order_by(Snapshot.period.desc())
        .limit(1)
    )
    if current is None:
        return []
    for _attempt in range(MAX_ATTEMPTS):
        try:
            return _close(current)
        except InvalidTransition:
            continue
    return []


def waiting_periods(appeal_ids: list[int]) -> dict[int, int]:
    """For forwarded cases among APPEAL_IDS: how many periods were published since each was
    forwarded (none for a case forwarded after the newest publication). One query."""
    if not appeal_ids:
        return {}
    forwarded = (
        select(AppealEvent.appeal_id, func.max(AppealEvent.at).label("at"))
        .where(AppealEvent.appeal_id.in_(appeal_ids), AppealEvent.to_status == FORWARDED)
        .group_by(AppealEvent.appeal_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Appeal.id, func.count(distinct(Snapshot.period)))
        .join(forwarded, forwarded.c.appeal_id == Appeal.id)
        .join(
            Snapshot,
            and_(
                Snapshot.status == SnapshotStatus.PUBLISHED,
                Snapshot.published_at > forwarded.c.at,
            ),
        )
        .where(Appeal.status == FORWARDED)
        .group_by(Appeal.id)
    ).all()
    return {int(ident): int(count) for ident, count in rows}
