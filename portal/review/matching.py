"""Matching a household reported by name to DTSEN. A citizen who reports a neighbour rarely
knows a NIK: they give a name, an address with RT/RW and a desa. A verifikator or
admin_dinsos of the area searches the current snapshot's households of a desa by that name,
sees the candidates and links one to the case; from then on the case page shows that
household as it does for a case filed with a NIK.

The rules of the hardening issue hold: only households that DTSEN puts in the officer's
scope are searched, shown or linked (a crafted request for another area's household finds
nothing); each search and link is audited, each household shown as a candidate gets an entry
in its access log, and searches are rate-limited per officer (STAFF_MATCH_LIMIT, in the
view). The filer is never part of any of this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update

from portal import access, db
from portal.appeals.models import Appeal
from portal.appeals.states import OPEN, AppealStatus
from portal.audit.service import record
from portal.auth.models import StaffUser
from portal.dataimport import queries as snapshots
from portal.dataimport.models import Household, Person
from portal.review import permissions
from portal.review.service import NotAllowed, ReviewError

MAX_CANDIDATES = 20
# How people name a neighbour, not part of the name in DTSEN: "Pak Budi", "Bu Haji Eni".
HONORIFICS = frozenset(
    {
        "pak",
        "bapak",
        "bpk",
        "bp",
        "bu",
        "ibu",
        "mas",
        "mbak",
        "mba",
        "kang",
        "teh",
        "bang",
        "abah",
        "emak",
        "mak",
        "haji",
        "hajjah",
        "hj",
        "alm",
        "almarhum",
        "almarhumah",
        "nenek",
        "kakek",
        "mbah",
    }
)
WORD = re.compile(r"[^\W\d_]+")  # letters only: no digits, no LIKE wildcards
REF = re.compile(r"[0-9a-f]{32}", re.ASCII)  # a person's NIK HMAC, as a candidate carries it


class NoName(ReviewError):
    """The search has no word left to look for (only titles, digits or signs)."""


class HouseholdNotFound(ReviewError):
    """Not a household of the current snapshot in the officer's scope: never linked, and
    answered like a case that does not exist."""


def can_match(user: StaffUser, appeal: Appeal) -> bool:
    """A decider of the area may match an open case about another household that the filer
    described by name, unless another officer holds it."""
    return (
        user.role_enum in permissions.DECIDERS
        and permissions.in_scope(user, appeal)
        and AppealStatus(appeal.status) in OPEN
        and not appeal.subject_is_filer_household
        and bool(appeal.subject_name)
        and appeal.assigned_to_id in (None, user.id)
    )


def name_terms(name: str) -> list[str]:
    """The words to look for: letters only, titles dropped, at most four."""
    words = [w.lower() for w in WORD.findall(name or "")]
    return [w for w in words if len(w) >= 2 and w not in HONORIFICS][:4]


@dataclass(frozen=True)
class Candidate:
    ref: str  # the matching member's NIK HMAC: what the link form sends back
    kk_hmac: str  # the household (for its access log; never shown)
    nama: str
    hubungan: str
    head: str  # the head of the household (or its first member)
    size: int
    alamat: str
    kode_desa: str
    desil: int
    same_rt_rw: bool  # the address has the RT and RW the filer gave


def _same_rt_rw(alamat: str, rt: str | None, rw: str | None) -> bool:
    if not rt or not rw:
        return False
    numbers = {
        kind.upper(): int(number)
        for kind, number in re.findall(r"\b(RT|RW)\D{0,3}(\d{1,3})", alamat, re.I)
    }
    return numbers.get("RT") == int(rt) and numbers.get("RW") == int(rw)


def candidates(
    user: StaffUser, appeal: Appeal, name: str, kode_desa: str, remote_addr: str | None
) -> list[Candidate]:
    """Members of households in KODE_DESA (current snapshot) whose name has every word of
    NAME, those at the RT/RW the filer gave first. Audited; each household shown gets an
    access-log entry. Raises NotAllowed (case or desa outside scope) or NoName."""
    if not can_match(user, appeal) or not permissions.desa_in_scope(user, kode_desa):
        raise NotAllowed
    terms = name_terms(name)
    if not terms:
        raise NoName
    snapshot = snapshots.current_snapshot()
    found: list[Candidate] = []
    if snapshot is not None:
        found = _search(snapshot.id, kode_desa, terms, appeal)
    record(
        "match_search",
        staff=user,
        target_type="appeal",
        target_id=appeal.id,
        after={"desa": kode_desa, "name": " ".join(terms), "candidates": len(found)},
    )
    access.record(
        access.Purpose.SEARCH,
        [c.kk_hmac for c in found],
        reader=access.Reader.staff(user, remote_addr),
        period=snapshot.period if snapshot else None,
    )
    db.session.commit()
    return found


def _search(snapshot_id: int, kode_desa: str, terms: list[str], appeal: Appeal) -> list[Candidate]:
    # the households of one desa (index on snapshot_id, kode_desa), their members by the
    # composite index on (snapshot_id, kk_hmac): a desa's few thousand names at most
    rows = db.session.execute(
        select(
            Person.nik_hmac,
            Person.nama,
            Person.hubungan,
            Person.kk_hmac,
            Household.alamat,
            Household.kode_desa,
            Household.desil,
        )
        .join(
            Household,
            and_(Household.snapshot_id == Person.snapshot_id, Household.kk_hmac == Person.kk_hmac),
        )
        .where(
            Household.snapshot_id == snapshot_id,
            Household.kode_desa == kode_desa,
            *[Person.nama.ilike(f"%{term}%") for term in terms],
        )
        .order_by(Household.alamat, Person.kk_hmac, Person.position)
        .limit(MAX_CANDIDATES)
    ).all()
    if not rows:
        return []
    households = {row.kk_hmac for row in rows}
    members = db.session.execute(
        select(Person.kk_hmac, Person.nama, Person.hubungan)
        .where(Person.snapshot_id == snapshot_id, Person.kk_hmac.in_(households))
        .order_by(Person.kk_hmac, Person.position)
    ).all()
    sizes: dict[str, int] = {}
    first: dict[str, str] = {}
    kepala: dict[str, str] = {}
    for kk_hmac, nama, hubungan in members:
        sizes[kk_hmac] = sizes.get(kk_hmac, 0) + 1
        first.setdefault(kk_hmac, nama)
        if hubungan == "KEPALA KELUARGA":
            kepala.setdefault(kk_hmac, nama)
    found = [
        Candidate(
            ref=row.nik_hmac,
            nama=row.nama,
            hubungan=row.hubungan,
            kk_hmac=row.kk_hmac,
            head=kepala.get(row.kk_hmac) or first.get(row.kk_hmac, row.nama),
            size=sizes.get(row.kk_hmac, 1),
            alamat=row.alamat,
            kode_desa=row.kode_desa,
            desil=row.desil,
            same_rt_rw=_same_rt_rw(row.alamat, appeal.subject_rt, appeal.subject_rw),
        )
        for row in rows
    ]
    return sorted(found, key=lambda c: not c.same_rt_rw)  # stable: address order otherwise


def link(user: StaffUser, appeal: Appeal, ref: str) -> Appeal:
    """Link the household of the person REF (a candidate) to the case: the case's subject
    becomes that person and household, and the case moves to the household's desa in DTSEN
    (same kabupaten: only households in scope can be linked). Audited with before and after.
    Raises NotAllowed (this officer may not match this case now) or HouseholdNotFound."""
    if not can_match(user, appeal):
        raise NotAllowed
    snapshot = snapshots.current_snapshot()
    person = (
        snapshots.person(snapshot.id, ref)
        if snapshot is not None and REF.fullmatch(ref or "")
        else None
    )
    household = snapshots.household(person.snapshot_id, person.kk_hmac) if person else None
    if person is None or household is None:
        raise HouseholdNotFound
    if not permissions.desa_in_scope(user, household.kode_desa):
        raise HouseholdNotFound  # another area's household: as if it did not exist
    before = _subject(appeal)
    details = {k: v for k, v in (appeal.details or {}).items() if k != "desa_mismatch"}
    if appeal.subject_kode_desa and appeal.subject_kode_desa != household.kode_desa:
        details["desa_mismatch"] = {
            "chosen": appeal.subject_kode_desa,
            "dtsen": household.kode_desa,
        }
    now = db.utcnow()
    values = {
        "subject_nik": person.nik,
        "subject_nik_hmac": person.nik_hmac,
        "subject_kk_hmac": person.kk_hmac,
        "subject_linked_by_id": user.id,
        "subject_linked_at": now,
        "kode_desa": household.kode_desa,
        "kecamatan_code": household.kode_desa.rsplit(".", 1)[0],
        "details": details,
        "updated_at": now,
    }
    # conditional on the case still being open and not taken by another officer meanwhile
    result = db.session.execute(
        update(Appeal)
        .where(
            Appeal.id == appeal.id,
            Appeal.status.in_([s.value for s in OPEN]),
            or_(Appeal.assigned_to_id.is_(None), Appeal.assigned_to_id == user.id),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if db.rowcount(result) != 1:
        db.session.rollback()
        raise NotAllowed
    for key, value in values.items():
        setattr(appeal, key, value)
    record(
        "link_household",
        staff=user,
        target_type="appeal",
        target_id=appeal.id,
        before=before,
        after=_subject(appeal),
    )
    db.session.commit()
    return appeal


def _subject(appeal: Appeal) -> dict[str, str | None]:
    """What the audit keeps of a link: pseudonyms and places, never a number."""
    return {
        "subject_nik_hmac": appeal.subject_nik_hmac,
        "subject_kk_hmac": appeal.subject_kk_hmac,
        "kode_desa": appeal.kode_desa,
    }
