"""The look-up use-case: match NIK + No. KK in the published snapshots and decide the outcome.

No oracle: an unknown NIK, an unknown KK and a pair that does not match all run the same
single query and get the same answer; a match gets the household with its members from that
same query (snapshot_queries.matched_household). Every match is written to the household's
access log (committed before the page is shown).

Honest pages: each program the desil puts in scope is received, not (yet) received, for nobody
in the household (PIP without anyone of school age) or given after an assessment (ATENSI), so
"nothing to propose" is told as such; a household removed in the last update is shown what it
held in the last period it was in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import SmallInteger, String, and_, bindparam, literal, select, union_all

from portal import access, db
from portal.core.names import mask_name
from portal.core.periods import Period
from portal.core.programs import PROGRAMS, Standing, age_on, in_scope, is_bansos_desil, standing
from portal.dataimport import queries as snapshot_queries
from portal.dataimport.models import HouseholdChange, Person, PersonChange
from portal.lookup import labels
from portal.pages import translated


class Outcome(StrEnum):
    RECEIVING = "receiving"
    IN_SCOPE_NOT_RECEIVING = "in_scope_not_receiving"
    ABOVE_RANGE = "above_range"
    REMOVED = "removed"
    NOT_FOUND = "not_found"


class NoDataPublished(Exception):
    """No snapshot has been published yet: the service cannot answer (503, not 'not found')."""


JAKARTA = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class MemberView:
    nama: str  # full name: templates pass it through the `masked` filter
    hubungan: str
    programs: list[str]
    key: str = ""  # the NIK's HMAC: finds the member's changes, never shown


@dataclass(frozen=True)
class Change:
    """One change of the period shown (portal/dataimport/history.py kinds)."""

    kind: str
    program: str = ""  # gained / lost: the codes, "PKH;BPNT"
    desil_from: int | None = None
    desil_to: int | None = None


@dataclass(frozen=True)
class Departed:
    """Someone on the family card in the previous period and not in this one."""

    nama: str  # masked by the template
    hubungan: str
    kind: str  # left (on another card now) | removed (in no household now)


@dataclass
class History:
    """What changed for this household in the period shown, against the one before."""

    period: Period
    household: list[Change] = field(default_factory=list)
    members: dict[str, list[Change]] = field(default_factory=dict)  # by MemberView.key
    departed: list[Departed] = field(default_factory=list)

    def of(self, member: MemberView) -> list[Change]:
        return self.members.get(member.key, [])

    def has(self, kind: str) -> bool:
        return any(c.kind == kind for c in self.household)

    def desil(self) -> Change | None:
        return next((c for c in self.household if c.kind == "desil"), None)

    def members_with(self, kind: str) -> int:
        """How many of the members shown have a change of KIND."""
        return sum(any(c.kind == kind for c in changes) for changes in self.members.values())


@dataclass(frozen=True)
class ProgramLine:
    code: str
    standing: Standing

    @property
    def tag(self) -> str:
        return translated(labels.STANDING_TAGS[self.standing])

    @property
    def note(self) -> str | None:
        return labels.standing_note(self.code, self.standing)


@dataclass
class LookupResult:
    outcome: Outcome
    period: Period
    published_at: datetime | None
    desil: int | None = None
    kode_desa: str | None = None
    members: list[MemberView] = field(default_factory=list)  # of the period shown (see below)
    received: list[str] = field(default_factory=list)  # programs anyone in the household gets
    in_scope: list[str] = field(default_factory=list)  # programs the desil puts in scope
    programs: list[ProgramLine] = field(default_factory=list)  # each in-scope program's standing
    # REMOVED: the period the household was last in; desil, members and received are of it
    removed_from: Period | None = None
    history: History | None = None  # what changed in the current period (from change rows)
    # REMOVED: whether this NIK is in no household of the current period (False: on another
    # family card now); None when the change rows do not say
    person_gone: bool | None = None
    snapshot_id: int = 0  # the current snapshot when it was found (a newer one outdates it)
    access_row: access.Entry | None = None  # lookup(defer=True): the access record to write

    @property
    def to_propose(self) -> list[str]:
        """In-scope programs that could apply and are not received: what an usulan can ask."""
        return [p.code for p in self.programs if p.standing is Standing.NOT_RECEIVED]

    @property
    def nothing_to_do(self) -> bool:
        """A receiving household with nothing it could propose: nothing to do if it is right."""
        return self.outcome is Outcome.RECEIVING and not self.to_propose

    @property
    def matched(self) -> bool:
        return self.outcome is not Outcome.NOT_FOUND


def _program_limits() -> dict[str, int | None]:
    limits = {code: p.max_desil for code, p in PROGRAMS.items()}
    limits.update(current_app.config.get("PROGRAM_MAX_DESIL") or {})
    return limits


def lookup(
    nik: str,
    no_kk: str,
    *,
    channel: str = "web",
    ip_prefix: str | None = None,
    record: bool = True,
    defer: bool = False,
) -> LookupResult:
    """Find the household of NIK if it holds No. KK. Both numbers must be validated already.

    ``record=False`` finds again a result whose access was recorded when it was first
    found. ``defer=True`` leaves the access record of a match in ``result.access_row`` for the
    caller to write before anything is shown (the look-up's POST:
    portal.replay.remember_lookup writes and commits it with the result's reference, which
    keeps the result: ``stored``/``from_stored``); otherwise it is written and committed
    here."""
    snapshots = snapshot_queries.published_snapshots()
    if not snapshots:
        raise NoDataPublished
    current = snapshots[0]
    nik_hmac = snapshot_queries.pseudonym(nik, "nik")
    kk_hmac = snapshot_queries.pseudonym(no_kk, "kk")
    found = snapshot_queries.matched_household(nik_hmac, kk_hmac, [s.id for s in snapshots])
    period = Period.parse(current.period)
    if found is None:
        return LookupResult(Outcome.NOT_FOUND, period, current.published_at, snapshot_id=current.id)
    snapshot_id, household, rows = found
    if snapshot_id == current.id:
        result = _found(current, household, rows, period)
    else:
        result = _removed(current, snapshots[1], household, rows, period)
    result.snapshot_id = current.id
    add_history(result, current.id, kk_hmac, nik_hmac)
    if record:
        row = access.entry(
            access.Purpose.LOOKUP,
            kk_hmac,
            reader=access.Reader(ip_prefix=ip_prefix),
            period=current.period,
            channel=channel,
        )
        if defer:
            result.access_row = row
        else:
            access.write(row)
            db.session.commit()  # the access is recorded before the page is shown
    return result


def _received(rows: list[snapshot_queries.MemberRow]) -> list[str]:
    return [code for code in PROGRAMS if any(code in m.programs for m in rows)]


def _today() -> date:
    return datetime.now(JAKARTA).date()


def _found(
    snapshot: snapshot_queries.SnapshotRef,
    household: snapshot_queries.HouseholdRow,
    rows: list[snapshot_queries.MemberRow],
    period: Period,
) -> LookupResult:
    members = [MemberView(m.nama, m.hubungan, list(m.programs), m.nik_hmac) for m in rows]
    received = _received(rows)
    scope = in_scope(household.desil, _program_limits())
    today = _today()
    ages = [age_on(m.tanggal_lahir, today) for m in rows]
    programs = [ProgramLine(code, standing(code, code in received, ages)) for code in scope]
    if not is_bansos_desil(household.desil):
        outcome = Outcome.ABOVE_RANGE
    elif received:
        outcome = Outcome.RECEIVING
    else:
        outcome = Outcome.IN_SCOPE_NOT_RECEIVING
    return LookupResult(
        outcome,
        period,
        snapshot.published_at,
        desil=household.desil,
        kode_desa=household.kode_desa,
        members=members,
        received=received,
        in_scope=scope,
        programs=programs,
    )


def _removed(
    current: snapshot_queries.SnapshotRef,
    previous: snapshot_queries.SnapshotRef,
    household: snapshot_queries.HouseholdRow,
    rows: list[snapshot_queries.MemberRow],
    period: Period,
) -> LookupResult:
    """Gone from the current period: what the household was and held in the previous one."""
    return LookupResult(
        Outcome.REMOVED,
        period,
        current.published_at,
        desil=household.desil,
        kode_desa=household.kode_desa,
        members=[MemberView(m.nama, m.hubungan, list(m.programs), m.nik_hmac) for m in rows],
        received=_received(rows),
        removed_from=Period.parse(previous.period),
    )


def add_history(result: LookupResult, snapshot_id: int, kk_hmac: str, nik_hmac: str) -> None:
    """What the change rows of the current period say about this household: one indexed
    query (household_changes and person_changes by snapshot + No. KK, with the names of
    members who left from the previous period). Nothing when the period has no history
    (the first one published)."""
    rows = db.session.connection().execute(_HISTORY, {"sid": snapshot_id, "kk": kk_hmac}).all()
    if not rows:
        return
    history = History(result.period)
    shown = {m.key for m in result.members}
    for row in rows:
        change = Change(row.kind, row.program or "", row.desil_from, row.desil_to)
        if row.level == "h":
            history.household.append(change)
            continue
        if row.nik_hmac == nik_hmac and row.kind in ("left", "removed"):
            result.person_gone = row.kind == "removed"
        if row.nik_hmac in shown:
            history.members.setdefault(row.nik_hmac, []).append(change)
        elif row.kind in ("left", "removed") and row.nama is not None:
            history.departed.append(Departed(row.nama, row.hubungan, row.kind))
    result.history = history


def _history_statement() -> Any:
    """add_history's query, built once a process (building and keying it cost more than
    running it on SQLite); the snapshot and the No. KK are bound at execution."""
    hc, pc, person = HouseholdChange, PersonChange, Person
    household = select(
        literal("h").label("level"),
        hc.kind,
        literal("").label("program"),
        hc.desil_from,
        hc.desil_to,
        literal(None, String).label("nik_hmac"),
        literal(None, String).label("nama"),
        literal(None, String).label("hubungan"),
    ).where(hc.snapshot_id == bindparam("sid"), hc.kk_hmac == bindparam("kk"))
    people = (
        select(
            literal("p").label("level"),
            pc.kind,
            pc.programs.label("program"),
            literal(None, SmallInteger).label("desil_from"),
            literal(None, SmallInteger).label("desil_to"),
            pc.nik_hmac,
            person.nama,
            person.hubungan,
        )
        .outerjoin(
            person,
            and_(
                person.snapshot_id == pc.previous_snapshot_id,
                person.nik_hmac == pc.nik_hmac,
                # two bound values, not an expanding IN: the statement is compiled once
                pc.kind.in_([literal("left"), literal("removed")]),
            ),
        )
        .where(pc.snapshot_id == bindparam("sid"), pc.kk_hmac == bindparam("kk"))
    )
    return union_all(household, people)


_HISTORY = _history_statement()
# --- the result kept with its reference (portal/replay) -----------------------------------------

STORED_VERSION = 1


def stored(result: LookupResult) -> dict[str, Any]:
    """RESULT as the JSON its reference keeps, so the result page (a GET) shows it without
    asking the snapshot again. Only what the page shows: names already masked (the page masks
    them, and masking is idempotent), members by position instead of their NIK's HMAC."""
    position = {m.key: str(i) for i, m in enumerate(result.members)}
    history = result.history
    return {
        "v": STORED_VERSION,
        "outcome": result.outcome.value,
        "period": str(result.period),
        "published_at": result.published_at.isoformat() if result.published_at else None,
        "snapshot_id": result.snapshot_id,
        "desil": result.desil,
        "kode_desa": result.kode_desa,
        "members": [[mask_name(m.nama), m.hubungan, m.programs] for m in result.members],
        "received": result.received,
        "in_scope": result.in_scope,
        "programs": [[line.code, line.standing.value] for line in result.programs],
        "removed_from": str(result.removed_from) if result.removed_from else None,
        "person_gone": result.person_gone,
        "history": None
        if history is None
        else {
            "period": str(history.period),
            "household": [_change_json(c) for c in history.household],
            "members": {
                position[key]: [_change_json(c) for c in changes]
                for key, changes in history.members.items()
                if key in position
            },
            "departed": [[mask_name(d.nama), d.hubungan, d.kind] for d in history.departed],
        },
    }


def from_stored(data: Any) -> LookupResult | None:
    """The result ``stored`` kept; None if DATA is not one (an older row: find it again)."""
    if not isinstance(data, dict) or data.get("v") != STORED_VERSION:
        return None
    members = [
        MemberView(nama, hubungan, list(programs), str(i))
        for i, (nama, hubungan, programs) in enumerate(data["members"])
    ]
    result = LookupResult(
        Outcome(data["outcome"]),
        Period.parse(data["period"]),
        datetime.fromisoformat(data["published_at"]) if data["published_at"] else None,
        desil=data["desil"],
        kode_desa=data["kode_desa"],
        members=members,
        received=list(data["received"]),
        in_scope=list(data["in_scope"]),
        programs=[ProgramLine(code, Standing(value)) for code, value in data["programs"]],
        removed_from=Period.parse(data["removed_from"]) if data["removed_from"] else None,
        person_gone=data["person_gone"],
        snapshot_id=int(data["snapshot_id"]),
    )
    kept = data["history"]
    if kept is not None:
        result.history = History(
            Period.parse(kept["period"]),
            household=[_change_of(c) for c in kept["household"]],
            members={key: [_change_of(c) for c in cs] for key, cs in kept["members"].items()},
            departed=[Departed(nama, hubungan, kind) for nama, hubungan, kind in kept["departed"]],
        )
    return result


def _change_json(change: Change) -> list[Any]:
    return [change.kind, change.program, change.desil_from, change.desil_to]


def _change_of(value: list[Any]) -> Change:
    kind, program, desil_from, desil_to = value
    return Change(kind, program, desil_from, desil_to)
