"""Run the benchmarks one after the other and print their figures together (`make bench`).

    .venv/bin/python bench/run_all.py [--quick] [NAME ...]

A NAME is one run of RUNS below (a script of bench/ with its arguments), or a script's name
(every run of that script). Without a NAME, every run, in RUNS's order: the look-up against
the floor on SQLite and on PostgreSQL + Redis at 100 k persons and at 10 M, the import on
SQLite (against csv + executemany) and at Kabupaten Bekasi's size on PostgreSQL (against
COPY), the staff pages at a million cases, the export, the mixed load. A name that is neither
is skipped with a note. A run that fails does not stop the others, but the exit status is 1 if
any failed. With --quick, the long runs (marked below) are left out and each script whose
--help offers "--quick" is given it (a shorter run; the figures are then only a smoke check).
Each script prints its own table as it goes; at the end, the headline figures of each run's
JSON in bench/out/ (its top-level "summary" object) are printed again, side by side.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from summary import format_results, read_results  # bench/summary.py

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"


@dataclass(frozen=True)
class Run:
    """One benchmark run: bench/SCRIPT.py with ARGS, its figures in bench/out/JSON."""

    name: str
    script: str
    args: tuple[str, ...] = ()
    json: str = ""
    long: bool = False  # left out by --quick

    @property
    def json_file(self) -> str:
        return self.json or f"{self.script}.json"


def _json(name: str) -> tuple[str, ...]:
    return ("--json", name)


RUNS = (
    Run("lookup_vs_floor-sqlite", "lookup_vs_floor", json="lookup.json"),  # 200 k persons
    Run(
        "lookup_vs_floor-postgresql",
        "lookup_vs_floor",
        ("--engine", "postgresql", "--persons", "100000", "--drop")
        + _json("lookup-postgresql.json"),
        "lookup-postgresql.json",
    ),
    # 10 M persons: 100 k imported, the rest copied in the database (about 10-20 minutes)
    Run(
        "lookup_vs_floor-postgresql-10m",
        "lookup_vs_floor",
        ("--engine", "postgresql", "--persons", "10000000", "--imported", "100000", "--drop")
        + _json("lookup-postgresql-10m.json"),
        "lookup-postgresql-10m.json",
        long=True,
    ),
    Run("import-sqlite", "import"),  # 240 k rows, against csv + executemany
    Run(
        "import-postgresql",
        "import",
        ("--postgres", "--persons", "3600000", "--rss-persons", "1000000")
        + _json("import-postgresql.json"),
        "import-postgresql.json",
        long=True,
    ),
    Run("staff", "staff"),
    Run("export", "export"),
    Run("load", "load"),
)


def select(names: list[str], quick: bool) -> list[Run | str]:
    """The runs NAMES ask for, in their order: a run by its name (even a long one), a
    script's name for each of its runs (QUICK: but the long ones); a name that is neither is
    kept as a string (skipped with a note). No names: every run (QUICK: but the long ones)."""
    if not names:
        return [r for r in RUNS if not (quick and r.long)]
    chosen: list[Run | str] = []
    for name in names:
        runs = [r for r in RUNS if r.name == name]
        if not runs:
            runs = [r for r in RUNS if r.script == name and not (quick and r.long)]
        if not runs and (BENCH / f"{name}.py").exists():
            runs = [Run(name, name)]  # a script of bench/ without a run of its own
        chosen.extend(runs or [name])
    return chosen


def offers_quick(script: Path) -> bool:
    try:
        done = subprocess.run(
            [sys.executable, str(script), "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return False
    return "--quick" in done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names",
        nargs="*",
        help="runs or scripts of bench/ (default: every run: "
        + ", ".join(r.name for r in RUNS)
        + ")",
    )
    parser.add_argument(
        "--quick", action="store_true", help="leave out the long runs; pass --quick where offered"
    )
    args = parser.parse_args()

    started = time.time()
    status: dict[str, str] = {}
    ran: list[Run] = []
    for run in select(args.names, args.quick):
        if isinstance(run, str):
            status[run] = "skipped (no such run or script)"
            print(f"=== {run}: skipped, no such run and no bench/{run}.py", flush=True)
            continue
        script = BENCH / f"{run.script}.py"
        cmd = [sys.executable, str(script), *run.args]
        if args.quick and offers_quick(script):
            cmd.append("--quick")
        shown = " ".join(Path(c).name if "/" in c else c for c in cmd)
        print(f"=== {run.name}: {shown}", flush=True)
        began = time.monotonic()
        code = subprocess.run(cmd, cwd=ROOT, check=False).returncode
        took = time.monotonic() - began
        status[run.name] = f"exit {code} after {took:.0f} s"
        ran.append(run)
        print(f"=== {run.name}: {status[run.name]}", flush=True)

    print()
    print(f"=== Summary (load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    for name, state in status.items():
        print(f"{name:32} {state}")
    print()
    print(format_results(read_results(OUT, [r.json_file for r in ran], started)))
    failed = [r.name for r in ran if not status[r.name].startswith("exit 0 ")]
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
