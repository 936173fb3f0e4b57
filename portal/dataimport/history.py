"""Period history: what changed per household and per person between two consecutive
published periods, computed in SQL at publication (set-based ``INSERT ... SELECT`` with
joins; no row passes through Python).

Households (household_changes): added, removed, desil moved (from -> to), moved (another
desa or address). Persons (person_changes): added to / removed from DTSEN, joined / left a
family card (a NIK on another card than before), programs gained / lost (one row each,
the codes joined as "PKH;BPNT"), data corrected (name, sex, birth date or relation). The
rows of a period are keyed by its snapshot (foreign key, ON DELETE CASCADE: pruning the
period takes them) and name the snapshot they compare with in a plain column.

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


# A person's programs as ";PKH;BPNT;" so that a code is matched whole with LIKE (no code
# holds a LIKE wildcard). The reader accepts no codes but these.
def _has(side: str, code: str) -> str:
    return f"(';' || {side}_programs || ';') LIKE '%;{code};%'"


def _codes(now: str, before: str) -> str:
    """The codes in NOW's programs and not in BEFORE's, as "PKH;PIP" (no aggregate: one
    CASE per program code, so both engines run it and no program table is joined)."""
    parts = " || ".join(
        f"CASE WHEN {_has(now, c)} AND NOT {_has(before, c)} THEN '{c};' ELSE '' END"
        for c in PROGRAMS
    )
    return f"rtrim({parts}, ';')"


_GAINED = _codes("n", "o")
_LOST = _codes("o", "n")

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
# added / removed (in one period only), joined / left (on another card), the programs
# gained and those lost (one row each, the codes joined as "PKH;BPNT"), and corrected data.
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
INSERT INTO person_changes (snapshot_id, nik_hmac, kind, programs, previous_snapshot_id, kk_hmac)
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
SELECT :new, n_nik, 'program_gained', {_GAINED}, :prev, n_kk FROM d
WHERE n_nik IS NOT NULL AND o_nik IS NOT NULL AND n_programs <> o_programs AND {_GAINED} <> ''
UNION ALL
SELECT :new, n_nik, 'program_lost', {_LOST}, :prev, n_kk FROM d
WHERE n_nik IS NOT NULL AND o_nik IS NOT NULL AND n_programs <> o_programs AND {_LOST} <> ''
UNION ALL
SELECT :new, n_nik, 'data', '', :prev, n_kk FROM d
WHERE n_nik IS NOT NULL AND o_nik IS NOT NULL AND data = 1
"""  # noqa: S608

STATEMENTS = (_HOUSEHOLDS, _PERSONS)
WORK_MEM = "256MB"
_SAVE = (
    "SELECT current_setting('work_mem') AS work_mem, current_setting('jit') AS jit, "
    "current_setting('enable_indexscan') AS indexscan"
)
_SET = (
    "SELECT set_config('work_mem', :work_mem, true), set_config('jit', :jit, true), "
    "set_config('enable_indexscan', :indexscan, true)"
)


def record_changes(session: Session, new_snapshot_id: int, previous_snapshot_id: int) -> None:
    """Store what changed from PREVIOUS_SNAPSHOT_ID to NEW_SNAPSHOT_ID (replacing any rows
    NEW_SNAPSHOT_ID had). Runs in the caller's transaction and does not commit."""
    session.flush()
    session.execute(delete(HouseholdChange).where(HouseholdChange.snapshot_id == new_snapshot_id))
    session.execute(delete(PersonChange).where(PersonChange.snapshot_id == new_snapshot_id))
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # For these statements only (set back below): the two periods' rows hashed in memory,
        # no JIT (compiling cost more than it saved), and no index scans: the new period has
        # no statistics yet, so the planner would read its 3.6 M rows through an index in
        # random order (bench/history.py measured that at 4x the CPU of a bitmap scan).
        saved = session.execute(text(_SAVE)).one()
        session.execute(text(_SET), {"work_mem": WORK_MEM, "jit": "off", "indexscan": "off"})
    params = {"new": new_snapshot_id, "prev": previous_snapshot_id}
    for statement in STATEMENTS:
        session.execute(text(statement), params)
    if postgres:
        session.execute(text(_SET), dict(saved._mapping))


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
