"""Fill a portal database with N realistic cases in one kabupaten/kota, plus staff of each role.

Reusable: ``seed(app, cases=...)`` from another benchmark (an app whose database is migrated
and has its region table), or the command line:

    .venv/bin/python bench/seed_cases.py --database-url postgresql+psycopg://.../h3_bench \
        --cases 1000000 --create

PostgreSQL is loaded with ``COPY`` (psycopg 3); SQLite with ``executemany`` in one
transaction (default 50,000 cases there). What is seeded, in realistic proportions:

- every reason code (sanggahan and usulan), statuses from received to done (about 20% open),
  filing dates over the last year, due dates APPEAL_SLA_DAYS later, so some open cases are
  overdue and a few are escalated;
- decided cases with a decision date (2 hours to 60 days after filing), their officer and
  decision reason; duplicates point at an earlier case, about 6% of sanggahan join a cluster
  (same household and code), about 1% of decided cases are contested by a newer case;
- the events of each case (filed, claimed, decided...), field checks for a share of the
  cases in review (some done);
- desa spread over the kabupaten's real desa codes (from the wilayah table);
- staff accounts of each role, enrolled (password + TOTP): see ``SeededStaff``.

Staff counts ("summary" tables) are rebuilt at the end when the schema has them
(``portal.review.summary.rebuild`` after migration 0013).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pyotp  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from portal import db  # noqa: E402
from portal.appeals.reasons import REASONS  # noqa: E402
from portal.appeals.tickets import ALPHABET, check_symbol  # noqa: E402
from portal.wilayah.models import Level, Wilayah  # noqa: E402

PASSWORD = "kopi tubruk sore hari 2026"  # noqa: S105 (bench accounts only)
KABUPATEN = "32.16"  # Kabupaten Bekasi

# status: share of all cases (sums to 1)
STATUS_SHARES = {
    "diterima": 0.12,
    "verifikasi": 0.08,
    "disetujui": 0.12,
    "ditolak": 0.22,
    "duplikat": 0.05,
    "dibatalkan": 0.03,
    "diteruskan": 0.18,
    "selesai": 0.20,
}
DECIDED = {"disetujui", "ditolak", "duplikat", "diteruskan", "selesai"}
DECISION_REASON = {
    "disetujui": "verified_in_field",
    "ditolak": "not_confirmed_in_field",
    "duplikat": "duplicate_case",
}

APPEAL_COLUMNS = (
    "id",
    "ticket",
    "kind",
    "reason_code",
    "status",
    "filer_nik_hmac",
    "filer_nik",
    "filer_kk_hmac",
    "filer_verified",
    "filer_locale",
    "subject_is_filer_household",
    "subject_nik_hmac",
    "subject_kk_hmac",
    "subject_found",
    "kabupaten_code",
    "kecamatan_code",
    "kode_desa",
    "note",
    "evidence",
    "details",
    "declared",
    "period",
    "created_at",
    "updated_at",
    "due_at",
    "decided_at",
    "decision_reason",
    "decision_note",
    "assigned_to_id",
    "assigned_at",
    "decided_by_id",
    "escalated_at",
    "cluster_of_id",
    "contests_id",
    "duplicate_of_id",
    "draft_token",
)
EVENT_COLUMNS = ("appeal_id", "at", "from_status", "to_status", "actor", "actor_staff_id", "note")
CHECK_COLUMNS = (
    "appeal_id",
    "kode_desa",
    "requested_by_id",
    "requested_at",
    "instructions",
    "done_by_id",
    "done_at",
    "outcome",
    "finding",
)


@dataclass
class SeededStaff:
    """An enrolled account: sign in with email, PASSWORD and a TOTP code of SECRET."""

    role: str
    email: str
    secret: str
    id: int
    regions: list[str]
    password: str = PASSWORD

    def code(self, step_offset: int = 0) -> str:
        totp = pyotp.TOTP(self.secret)
        return totp.generate_otp(totp.timecode(datetime.now(UTC)) + step_offset)


@dataclass
class SeedResult:
    cases: int
    events: int
    field_checks: int
    seconds: float
    kabupaten: str
    desa: list[str]
    staff: dict[str, SeededStaff] = field(default_factory=dict)
    case_ids: dict[str, list[int]] = field(default_factory=dict)  # samples, by kind

    def as_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "events": self.events,
            "field_checks": self.field_checks,
            "seconds": round(self.seconds, 1),
            "kabupaten": self.kabupaten,
            "desa": len(self.desa),
            "staff": {k: {"role": s.role, "regions": s.regions} for k, s in self.staff.items()},
        }


def _ticket(n: int) -> str:
    body = ""
    for _position in range(7):
        n, r = divmod(n, len(ALPHABET))
        body += ALPHABET[r]
    return body + check_symbol(body)


def _digits(rng: random.Random, prefix: str, length: int = 16) -> str:
    return prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def create_staff(app: Flask, kabupaten: str, operator_desa: str) -> dict[str, SeededStaff]:
    """One enrolled account per role (two verifikator), scoped to KABUPATEN (an operator_desa
    to OPERATOR_DESA), through the real service functions."""
    from portal.auth import service
    from portal.auth.models import StaffUser

    wanted = {
        "verifikator": ("verifikator", [kabupaten]),
        "verifikator_2": ("verifikator", [kabupaten]),
        "admin_dinsos": ("admin_dinsos", [kabupaten]),
        "pusat": ("pusat", []),
        "operator_desa": ("operator_desa", [operator_desa]),
    }
    out = {}
    with app.app_context():
        for key, (role, regions) in wanted.items():
            email = f"bench.{key}@dinsos.example.go.id"
            existing = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
            if existing is not None:
                raise RuntimeError(f"{email} exists: seed an empty database")
            created = service.create_staff(email, f"Bench {key}", role, regions)
            user = db.session.get(StaffUser, created.user.id)
            if user is None:
                raise RuntimeError(email)
            secret = service.pending_secret(user)
            totp = pyotp.TOTP(secret)
            service.enrol(user, PASSWORD, totp.generate_otp(totp.timecode(db.utcnow()) - 1))
            out[key] = SeededStaff(role, email, secret, user.id, regions)
    return out


def _rows(
    n: int,
    desa: list[str],
    staff_ids: list[int],
    now: datetime,
    sla: timedelta,
    rng: random.Random,
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]], tuple[Any, ...] | None]]:
    """(appeal row, its events, a field check or None) for ids 1..N, in id order (a case
    only points at smaller ids: cluster roots, duplicates and contested cases come first)."""
    statuses = list(STATUS_SHARES)
    weights = list(STATUS_SHARES.values())
    codes = list(REASONS)
    # more sanggahan than usulan; the commonest reasons first
    code_weights = [8, 10, 4, 6, 3, 2, 9, 7, 8, 5, 6, 1][: len(codes)] + [1] * max(
        0, len(codes) - 12
    )
    roots: dict[str, list[int]] = {c: [] for c in codes}
    contested: set[int] = set()
    decided_ids: list[int] = []
    year = timedelta(days=365).total_seconds()
    for ident in range(1, n + 1):
        code = rng.choices(codes, code_weights)[0]
        reason = REASONS[code]
        status = rng.choices(statuses, weights)[0]
        # open cases are recent (a few weeks, some past their due date); closed ones older
        if status in ("diterima", "verifikasi"):
            age = timedelta(seconds=rng.random() * 35 * 86400)
        else:
            age = timedelta(seconds=rng.random() * year)
        created = now - age
        due = created + sla
        place = desa[rng.randrange(len(desa))]
        kecamatan = place.rsplit(".", 1)[0]
        decided_at = decided_by = assigned = assigned_at = escalated = None
        decision_reason = decision_note = None
        if status in DECIDED:
            spent = timedelta(hours=2 + rng.random() * min(60 * 24, age.total_seconds() / 3600))
            decided_at = min(created + spent, now)
            decided_by = rng.choice(staff_ids)
            assigned, assigned_at = decided_by, created + (decided_at - created) / 3
            base = "disetujui" if status in ("diteruskan", "selesai") else status
            decision_reason = DECISION_REASON.get(base)
            decision_note = "Sesuai hasil verval."
        elif status == "verifikasi":
            assigned = rng.choice(staff_ids)
            assigned_at = created + (now - created) / 4
        if status in ("diterima", "verifikasi") and due < now and rng.random() < 0.3:
            escalated = due + timedelta(hours=1)
        cluster = duplicate = contests = None
        sanggahan = reason.kind.value == "sanggahan"
        if sanggahan and roots[code] and rng.random() < 0.06:
            cluster = rng.choice(roots[code][-200:])
        elif sanggahan:
            roots[code].append(ident)
        if status == "duplikat" and ident > 1:
            duplicate = rng.randrange(max(1, ident - 5000), ident)
        if decided_ids and status in ("diterima", "verifikasi") and rng.random() < 0.05:
            target = decided_ids[rng.randrange(max(0, len(decided_ids) - 2000), len(decided_ids))]
            if target not in contested:
                contested.add(target)
                contests = target
        if status in ("disetujui", "ditolak", "duplikat"):
            decided_ids.append(ident)
        own = str(reason.subject) == "own" or (
            str(reason.subject) == "either" and rng.random() < 0.4
        )
        row = (
            ident,
            _ticket(ident * 7919 % (len(ALPHABET) ** 7)),
            reason.kind.value,
            code,
            status,
            _hex(rng),
            _digits(rng, "321601"),
            _hex(rng),
            code != "EXC-TIDAK-TERDATA",
            "id",
            own,
            _hex(rng) if not own else None,
            _hex(rng),
            True,
            place[:5],
            kecamatan,
            place,
            "Keterangan dari pelapor.",
            "[]",
            "{}",
            True,
            "2026Q3",
            created,
            decided_at or assigned_at or created,
            due,
            decided_at,
            decision_reason,
            decision_note,
            assigned,
            assigned_at,
            decided_by,
            escalated,
            cluster,
            contests,
            duplicate,
            f"bench:{ident}" if contests is None else f"contest:{contests}",
        )
        events = [(ident, created, None, "diterima", "filer", None, None)]
        if assigned_at is not None:
            events.append((ident, assigned_at, "diterima", "verifikasi", "staff", assigned, None))
        if decided_at is not None:
            decided_as = "disetujui" if status in ("diteruskan", "selesai") else status
            events.append(
                (ident, decided_at, "verifikasi", decided_as, "staff", decided_by, decision_note)
            )
            if status in ("diteruskan", "selesai"):
                events.append((ident, decided_at, "disetujui", "diteruskan", "system", None, None))
            if status == "selesai":
                events.append((ident, now, "diteruskan", "selesai", "system", None, None))
        elif status == "dibatalkan":
            events.append((ident, created, "diterima", "dibatalkan", "filer", None, None))
        check = None
        if status == "verifikasi" and rng.random() < 0.4:
            done = rng.random() < 0.5
            asked = assigned_at or created
            check = (
                ident,
                place,
                assigned,
                asked,
                "Mohon cek ke alamat.",
                None,
                asked + timedelta(days=2) if done else None,
                "confirmed" if done else None,
                "Sesuai." if done else None,
            )
        yield row, events, check


def _copy(raw: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def seed(
    app: Flask,
    cases: int,
    *,
    kabupaten: str = KABUPATEN,
    random_seed: int = 11,
    progress: bool = False,
) -> SeedResult:
    """Seed CASES cases in KABUPATEN and staff of every role into APP's (migrated) database.

    The database must hold the region table and no cases yet."""
    from portal.appeals.models import Appeal, AppealEvent
    from portal.review.models import FieldCheck

    started = time.perf_counter()
    rng = random.Random(random_seed)
    with app.app_context():
        desa = list(
            db.session.scalars(
                select(Wilayah.code)
                .where(Wilayah.level == int(Level.DESA), Wilayah.parent_code.like(kabupaten + ".%"))
                .order_by(Wilayah.code)
            )
        )
        if not desa:
            raise RuntimeError(f"no desa of {kabupaten}: import the region table first")
        if db.session.scalar(select(func.count()).select_from(Appeal)):
            raise RuntimeError("the database already holds cases: seed an empty one")
        sla = timedelta(days=int(app.config["APPEAL_SLA_DAYS"]))
    staff = create_staff(app, kabupaten, desa[0])
    deciders = [s.id for s in staff.values() if s.role in ("verifikator", "admin_dinsos")]
    now = datetime.now(UTC)
    engine = app.extensions["db_engine"]
    postgres = engine.dialect.name == "postgresql"
    n_events = n_checks = 0
    samples: dict[str, list[int]] = {"linked": [], "decided": [], "open": []}
    batch = 50_000
    appeals: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    checks: list[tuple[Any, ...]] = []

    def flush(conn: Any) -> None:
        nonlocal appeals, events, checks
        if postgres:
            raw = conn.connection.driver_connection
            _copy(raw, "appeals", APPEAL_COLUMNS, appeals)
            _copy(raw, "appeal_events", EVENT_COLUMNS, events)
            _copy(raw, "field_checks", CHECK_COLUMNS, checks)
        else:
            conn.execute(
                insert(Appeal.__table__),
                [dict(zip(APPEAL_COLUMNS, _sqlite_row(r), strict=True)) for r in appeals],
            )
            conn.execute(
                insert(AppealEvent.__table__),
                [dict(zip(EVENT_COLUMNS, e, strict=True)) for e in events],
            )
            if checks:
                conn.execute(
                    insert(FieldCheck.__table__),
                    [dict(zip(CHECK_COLUMNS, c, strict=True)) for c in checks],
                )
        appeals, events, checks = [], [], []

    with engine.begin() as conn:
        if postgres:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            # the summary triggers (migration 0013) would cost a row of work per case, and
            # those on field_checks (0025) an UPDATE of the cases per batch: the summaries and
            # each case's verval are rebuilt in one pass at the end instead
            conn.execute(text("ALTER TABLE appeals DISABLE TRIGGER USER"))
            conn.execute(text("ALTER TABLE field_checks DISABLE TRIGGER USER"))
        for row, evs, check in _rows(cases, desa, deciders, now, sla, rng):
            appeals.append(row)
            events.extend(evs)
            n_events += len(evs)
            if check:
                checks.append(check)
                n_checks += 1
            if row[32] is not None and len(samples["linked"]) < 500:
                samples["linked"].append(row[32])  # a cluster root: the case page lists many
            if len(appeals) >= batch:
                flush(conn)
                if progress:
                    print(f"  {row[0]:,} cases", file=sys.stderr, flush=True)
        flush(conn)
        if postgres:
            for table in ("appeals", "appeal_events", "field_checks"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                        f" (SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
        _rebuild_summaries(conn)
        if postgres:
            conn.execute(text("ALTER TABLE appeals ENABLE TRIGGER USER"))
            conn.execute(text("ALTER TABLE field_checks ENABLE TRIGGER USER"))
    if postgres:
        # every table the seed wrote, the summaries rebuilt above included: as autovacuum
        # leaves a database in use (statistics for the planner, a visibility map for the
        # index-only scans), which it would reach only a minute or more into the measuring
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    with app.app_context():
        rows = db.session.execute(
            select(Appeal.id, Appeal.status).where(Appeal.id % 997 == 0).limit(400)
        ).all()
        samples["decided"] = [i for i, s in rows if s in DECIDED][:100]
        samples["open"] = [i for i, s in rows if s in ("diterima", "verifikasi")][:100]
    return SeedResult(
        cases, n_events, n_checks, time.perf_counter() - started, kabupaten, desa, staff, samples
    )


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """JSON columns go through SQLAlchemy as Python values on SQLite."""
    values = list(row)
    values[APPEAL_COLUMNS.index("evidence")] = []
    values[APPEAL_COLUMNS.index("details")] = {}
    return tuple(values)


def _rebuild_summaries(conn: Any) -> None:
    """Maintained counts that the bulk load bypassed, when the schema has them."""
    from sqlalchemy import inspect

    try:
        from portal.review import summary
    except ImportError:  # a commit before the summary tables
        return
    if inspect(conn).has_table("appeal_counts"):
        summary.rebuild(conn)


def make_app(database_url: str) -> Flask:
    """An app on DATABASE_URL for seeding and in-process measurement (test config: random
    keys, no rate limits)."""
    from portal import create_app

    return create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": database_url,
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
        }
    )


def prepare(database_url: str, *, create: bool) -> Flask:
    """Create the database (PostgreSQL, CREATE=True), migrate it, import the regions."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from portal.migrate import upgrade
    from portal.wilayah.loader import import_dir

    url = make_url(database_url)
    if create and url.get_backend_name() == "postgresql":
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        import_dir()
    return app


def drop(database_url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="the database to fill")
    parser.add_argument("--cases", type=int, help="cases (default 1,000,000; SQLite 50,000)")
    parser.add_argument("--kabupaten", default=KABUPATEN, help="kabupaten/kota code (32.16)")
    parser.add_argument(
        "--create", action="store_true", help="(re)create the database, migrate, import regions"
    )
    parser.add_argument("--seed", type=int, default=11, help="random seed")
    args = parser.parse_args(argv)
    sqlite = args.database_url.startswith("sqlite")
    cases = args.cases or (50_000 if sqlite else 1_000_000)
    app = prepare(args.database_url, create=args.create) if args.create or sqlite else None
    app = app or make_app(args.database_url)
    result = seed(app, cases, kabupaten=args.kabupaten, random_seed=args.seed, progress=True)
    print(
        f"seeded {result.cases:,} cases, {result.events:,} events, "
        f"{result.field_checks:,} field checks in {len(result.desa)} desa of {result.kabupaten} "
        f"in {result.seconds:.1f} s"
    )
    for key, s in result.staff.items():
        print(f"  {key}: {s.email} ({s.role}, {', '.join(s.regions) or 'national'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
