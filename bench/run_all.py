"""Run the benchmarks one after the other and print their figures together (`make bench`).

    .venv/bin/python bench/run_all.py [--quick] [NAME ...]

NAME is a script of bench/ without ".py" (default: BENCHES below, the Makefile's BENCHES
passes its own list). A script that does not exist is skipped with a note; one that fails
does not stop the others, but the exit status is 1 if any failed. With --quick, each script
whose --help offers "--quick" is given it (a shorter run; the figures are then only a smoke
check). Each script prints its own table as it goes; at the end, the headline figures of each
one's JSON in bench/out/ (its top-level "summary" object) are printed again, side by side.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from summary import format_results, read_results  # bench/summary.py

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
BENCHES = ("lookup_vs_floor", "import", "staff", "export", "load")
# the JSON each script writes in bench/out/ (default: <name>.json)
JSON_OF = {"lookup_vs_floor": "lookup.json"}


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
    parser.add_argument("names", nargs="*", default=list(BENCHES), help="scripts of bench/")
    parser.add_argument("--quick", action="store_true", help="pass --quick where offered")
    args = parser.parse_args()

    started = time.time()
    status: dict[str, str] = {}
    for name in args.names:
        script = BENCH / f"{name}.py"
        if not script.exists():
            status[name] = "skipped (no such script)"
            print(f"=== {name}: skipped, bench/{name}.py does not exist", flush=True)
            continue
        cmd = [sys.executable, str(script)]
        if args.quick and offers_quick(script):
            cmd.append("--quick")
        print(f"=== {name}: {' '.join(Path(c).name if '/' in c else c for c in cmd)}", flush=True)
        began = time.monotonic()
        code = subprocess.run(cmd, cwd=ROOT, check=False).returncode
        took = time.monotonic() - began
        status[name] = f"exit {code} after {took:.0f} s"
        print(f"=== {name}: {status[name]}", flush=True)

    print()
    print(f"=== Summary (load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    for name, state in status.items():
        print(f"{name:16} {state}")
    print()
    ran = [n for n, s in status.items() if s.startswith("exit")]
    print(format_results(read_results(OUT, [JSON_OF.get(n, f"{n}.json") for n in ran], started)))
    failed = [n for n in ran if not status[n].startswith("exit 0 ")]
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
