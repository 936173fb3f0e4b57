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
_HAS = "(';' || {alias}_programs || ';') LIKE ('%;' || p.code || ';%')"

# One pass over both periods (a full outer join), keeping only the households that differ
# at all; each kind of change is then read from that small set.
_HOUSEHOLDS = """
WITH d AS MATERIALIZED (
    SELECT n.kk_hmac AS n_kk, o.kk_hmac AS o_kk, n.desil AS n_desil, o.desil AS o_desil,
           CASE WHEN n.kode_desa <> o.kode_desa OR n.alamat <> o.alamat THEN 1 ELSE 0 END
               AS moved
    FROM (SELECT * FROM households WHERE snapshot_id = :new) n
    FULL OUTER JOIN (SELECT * FROM households WHERE snapshot_id = :prev) o
      ON o.kk_hmac = n.kk_hmac
    WHERE n.kk_hmac IS NULL OR o.kk_hmac IS NULL OR n.desil <> o.desil
       OR n.kode_desa <> o.kode_desa OR n.alamat <> o.alamat
)
INSERT INTO household_changes
    (snapshot_id, kk_hmac, kind, previous_snapshot_id, desil_from, desil_to)
SELECT :new, n_kk, 'added', :prev, NULL, n_desil FROM d WHERE o_kk IS NULL
UNION ALL
SELECT :new, o_kk, 'removed', :prev, o_desil, NULL FROM d WHERE n_kk IS NULL
UNION ALL
SELECT :new, n_kk, 'desil', :prev, o_desil, n_desil FROM d
WHERE n_kk IS NOT NULL AND o_kk IS NOT NULL AND n_desil <> o_desil
UNION ALL
SELECT :new, n_kk, 'moved', :prev, o_desil, n_desil FROM d
WHERE n_kk IS NOT NULL AND o_kk IS NOT NULL AND moved = 1
"""

# The same for persons: one full outer join on the NIK, the differing people kept, then
# added / removed (in one period only), joined / left (on another card), one row per
# program gained or lost (the program table is joined to the differing people only), and
# corrected data.
# Only the fixed program codes are formatted into it.
_PERSONS = f"""
WITH d AS MATERIALIZED (
    SELECT n.nik_hmac AS n_nik, o.nik_hmac AS o_nik, n.kk_hmac AS n_kk, o.kk_hmac AS o_kk,
           n.programs AS n_programs, o.programs AS o_programs,
           CASE WHEN n.nama <> o.nama OR n.jenis_kelamin <> o.jenis_kelamin
                  OR n.tanggal_lahir <> o.tanggal_lahir OR n.hubungan <> o.hubungan
                THEN 1 ELSE 0 END AS data
    FROM (SELECT * FROM persons WHERE snapshot_id = :new) n
    FULL OUTER JOIN (SELECT * FROM persons WHERE snapshot_id = :prev) o
      ON o.nik_hmac = n.nik_hmac
    WHERE n.nik_hmac IS NULL OR o.nik_hmac IS NULL OR n.kk_hmac <> o.kk_hmac
       OR n.programs <> o.programs OR n.nama <> o.nama OR n.jenis_kelamin <> o.jenis_kelamin
       OR n.tanggal_lahir <> o.tanggal_lahir OR n.hubungan <> o.hubungan
)
INSERT INTO person_changes (snapshot_id, nik_hmac, kind, program, previous_snapshot_id, kk_hmac)
SELECT :new, n_nik, 'added', '', :prev, n_kk FROM d WHERE o_nik IS NULL
UNION ALL
SELECT :new, o_nik, 'removed', '', :prev, o_kk FROM d WHERE n_nik IS NULL
UNION ALL
SELECT :new, n_nik, 'joined', '', :prev, n_kk FROM d
WHERE n_nik IS NOT NULL AND o_nik IS NOT NULL AND n_kk <> o_kk
UNION ALL
SELECT :new, o_nik, 'left', '', :prev, o_kk FROM d
WHERE n_nik IS NOT NULL AND o_nik IS NOT NULL AND n_kk <> o_kk
UNION ALL
SELECT :new, n_nik,
       CASE WHEN {_HAS.format(alias="n")} THEN 'program_gained' ELSE 'program_lost' END,
       p.code, :prev, n_kk
FROM d JOIN ({_CODES}) p
  ON (CASE WHEN {_HAS.format(alias="n")} THEN 1 ELSE 0 END)
     <> (CASE WHEN {_HAS.format(alias="o")} THEN 1 ELSE 0 END)
WHERE n_nik IS NOT NULL AND o_nik IS NOT NULL AND n_programs <> o_programs
UNION ALL
SELECT :new, n_nik, 'data', '', :prev, n_kk FROM d
WHERE n_nik IS NOT NULL AND o_nik IS NOT NULL AND data = 1
"""  # noqa: S608

STATEMENTS = (_HOUSEHOLDS, _PERSONS)
WORK_MEM = "256MB"


def record_changes(session: Session, new_snapshot_id: int, previous_snapshot_id: int) -> None:
    """Store what changed from PREVIOUS_SNAPSHOT_ID to NEW_SNAPSHOT_ID (replacing any rows
    NEW_SNAPSHOT_ID had). Runs in the caller's transaction and does not commit."""
    session.flush()
    session.execute(delete(HouseholdChange).where(HouseholdChange.snapshot_id == new_snapshot_id))
    session.execute(delete(PersonChange).where(PersonChange.snapshot_id == new_snapshot_id))
    if session.get_bind().dialect.name == "postgresql":
        # the two periods' keys hashed in memory, not in batches on disk (this transaction only)
        # and no JIT: compiling these statements cost more than it saved (bench/history.py)
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
        session.execute(text("SET LOCAL jit = off"))
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
