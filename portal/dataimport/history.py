"""Period history: what changed per household and per person between two consecutive
published periods, computed in SQL at publication (set-based ``INSERT ... SELECT`` with
joins; no row passes through Python).

Households (household_changes): added, removed, desil moved (from -> to), moved (another
desa or address). Persons (person_changes): added to / removed from DTSEN, joined / left a
family card (a NIK on another card than before), program gained / lost (one row per
program), data corrected (name, sex, birth date or relation). The rows of a period are
keyed by its snapshot and point at the snapshot they compare with; both foreign keys
cascade, so pruning either snapshot takes the rows with it.

"Consecutive" means published periods, not calendar quarters: a period is compared with the
newest published period before it (a file that replaces its period is compared with that
one, never with the file it replaces), and the first period has no changes. Replacing a
period that already has a later one also recomputes the later period's changes against the
new file, so every stored change is between two snapshots that are published now.
"""

from __future__ import annotations

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from portal.core.programs import PROGRAMS
from portal.dataimport.models import HouseholdChange, PersonChange, Snapshot, SnapshotStatus

# The program codes, as a one-column derived table both engines read (SQLite has no column
# aliases for VALUES). The reader accepts no other codes.
_CODES = " UNION ALL ".join(f"SELECT '{code}' AS code" for code in PROGRAMS)

# A person's programs as ";PKH;BPNT;" so that a code is matched whole with LIKE (no code
# holds a LIKE wildcard).
_HAS = "(';' || {alias}.programs || ';') LIKE ('%;' || p.code || ';%')"

_HOUSEHOLDS_ADDED = """
INSERT INTO household_changes
    (snapshot_id, kk_hmac, kind, previous_snapshot_id, desil_from, desil_to)
SELECT :new, n.kk_hmac, 'added', :prev, NULL, n.desil
FROM households n
WHERE n.snapshot_id = :new
  AND NOT EXISTS (
    SELECT 1 FROM households o WHERE o.snapshot_id = :prev AND o.kk_hmac = n.kk_hmac)
"""

_HOUSEHOLDS_REMOVED = """
INSERT INTO household_changes
    (snapshot_id, kk_hmac, kind, previous_snapshot_id, desil_from, desil_to)
SELECT :new, o.kk_hmac, 'removed', :prev, o.desil, NULL
FROM households o
WHERE o.snapshot_id = :prev
  AND NOT EXISTS (
    SELECT 1 FROM households n WHERE n.snapshot_id = :new AND n.kk_hmac = o.kk_hmac)
"""

# Both periods: one join, one row per kind that applies (the kinds are a two-row table
# joined only to the households that differ at all).
_HOUSEHOLDS_CHANGED = """
INSERT INTO household_changes
    (snapshot_id, kk_hmac, kind, previous_snapshot_id, desil_from, desil_to)
SELECT :new, n.kk_hmac, k.kind, :prev, o.desil, n.desil
FROM households n
JOIN households o ON o.snapshot_id = :prev AND o.kk_hmac = n.kk_hmac
JOIN (SELECT 'desil' AS kind UNION ALL SELECT 'moved') k
  ON (k.kind = 'desil' AND n.desil <> o.desil)
  OR (k.kind = 'moved' AND (n.kode_desa <> o.kode_desa OR n.alamat <> o.alamat))
WHERE n.snapshot_id = :new
  AND (n.desil <> o.desil OR n.kode_desa <> o.kode_desa OR n.alamat <> o.alamat)
"""

# Everyone in the new period against the previous one: new in DTSEN, or on another card.
_PERSONS_ARRIVED = """
INSERT INTO person_changes (snapshot_id, nik_hmac, kind, program, previous_snapshot_id, kk_hmac)
SELECT :new, n.nik_hmac, CASE WHEN o.nik_hmac IS NULL THEN 'added' ELSE 'joined' END, '',
       :prev, n.kk_hmac
FROM persons n
LEFT JOIN persons o ON o.snapshot_id = :prev AND o.nik_hmac = n.nik_hmac
WHERE n.snapshot_id = :new AND (o.nik_hmac IS NULL OR o.kk_hmac <> n.kk_hmac)
"""

# Everyone in the previous period against the new one: gone from DTSEN, or on another card.
_PERSONS_DEPARTED = """
INSERT INTO person_changes (snapshot_id, nik_hmac, kind, program, previous_snapshot_id, kk_hmac)
SELECT :new, o.nik_hmac, CASE WHEN n.nik_hmac IS NULL THEN 'removed' ELSE 'left' END, '',
       :prev, o.kk_hmac
FROM persons o
LEFT JOIN persons n ON n.snapshot_id = :new AND n.nik_hmac = o.nik_hmac
WHERE o.snapshot_id = :prev AND (n.nik_hmac IS NULL OR o.kk_hmac <> n.kk_hmac)
"""

# In both periods with other programs: one row per program gained or lost. The program
# table is joined only to the people whose programs differ.
_PERSONS_PROGRAMS = f"""
INSERT INTO person_changes (snapshot_id, nik_hmac, kind, program, previous_snapshot_id, kk_hmac)
SELECT :new, n.nik_hmac,
       CASE WHEN {_HAS.format(alias="n")} THEN 'program_gained' ELSE 'program_lost' END,
       p.code, :prev, n.kk_hmac
FROM persons n
JOIN persons o ON o.snapshot_id = :prev AND o.nik_hmac = n.nik_hmac
JOIN ({_CODES}) p
  ON ({_HAS.format(alias="n")}) <> ({_HAS.format(alias="o")})
WHERE n.snapshot_id = :new AND n.programs <> o.programs
"""

_PERSONS_DATA = """
INSERT INTO person_changes (snapshot_id, nik_hmac, kind, program, previous_snapshot_id, kk_hmac)
SELECT :new, n.nik_hmac, 'data', '', :prev, n.kk_hmac
FROM persons n
JOIN persons o ON o.snapshot_id = :prev AND o.nik_hmac = n.nik_hmac
WHERE n.snapshot_id = :new
  AND (n.nama <> o.nama OR n.jenis_kelamin <> o.jenis_kelamin
       OR n.tanggal_lahir <> o.tanggal_lahir OR n.hubungan <> o.hubungan)
"""

STATEMENTS = (
    _HOUSEHOLDS_ADDED,
    _HOUSEHOLDS_REMOVED,
    _HOUSEHOLDS_CHANGED,
    _PERSONS_ARRIVED,
    _PERSONS_DEPARTED,
    _PERSONS_PROGRAMS,
    _PERSONS_DATA,
)


def record_changes(session: Session, new_snapshot_id: int, previous_snapshot_id: int) -> None:
    """Store what changed from PREVIOUS_SNAPSHOT_ID to NEW_SNAPSHOT_ID (replacing any rows
    NEW_SNAPSHOT_ID had). Runs in the caller's transaction and does not commit."""
    session.flush()
    session.execute(delete(HouseholdChange).where(HouseholdChange.snapshot_id == new_snapshot_id))
    session.execute(delete(PersonChange).where(PersonChange.snapshot_id == new_snapshot_id))
    params = {"new": new_snapshot_id, "prev": previous_snapshot_id}
    for statement in STATEMENTS:
        session.execute(text(statement), params)


def record_period_changes(session: Session, snapshot_id: int) -> None:
    """At publication, inside the publishing transaction once the new snapshot is marked
    published (and a replaced file marked replaced): the changes of this period against the
    newest published period before it, and, when a later period is published already, that
    period's changes against this one."""
    session.flush()
    period = session.scalar(select(Snapshot.period).where(Snapshot.id == snapshot_id))
    published = select(Snapshot.id).where(
        Snapshot.status == SnapshotStatus.PUBLISHED, Snapshot.id != snapshot_id
    )
    previous = session.scalar(
        published.where(Snapshot.period < period).order_by(Snapshot.period.desc()).limit(1)
    )
    following = session.scalar(
        published.where(Snapshot.period > period).order_by(Snapshot.period).limit(1)
    )
    if previous is not None:
        record_changes(session, snapshot_id, previous)
    if following is not None:
        record_changes(session, following, snapshot_id)
