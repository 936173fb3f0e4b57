"""Pure helpers of the benchmarks (no portal import, no I/O but reading JSON files):
latency distributions merged across kinds of requests (bench/load.py) and the combined
summary of every benchmark's JSON in bench/out/ (bench/run_all.py)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

STEPS = 200  # a distribution is kept as its quantiles in steps of 0.5 %


def quantiles(values: Sequence[float], steps: int = STEPS) -> list[float]:
    """The quantiles of VALUES at 100/steps %, 2 * 100/steps %, ... 100 % (nearest rank, as
    wrk's percentile()). Empty VALUES: an empty list."""
    ordered = sorted(values)
    if not ordered:
        return []
    n = len(ordered)
    return [ordered[max(0, math.ceil(n * i / steps) - 1)] for i in range(1, steps + 1)]


def merge_percentiles(
    parts: Iterable[tuple[int, Sequence[float]]], percents: Iterable[float]
) -> dict[float, float | None]:
    """Percentiles of several distributions together. Each part is (its number of requests,
    its quantiles in equal steps, as quantiles() gives or wrk's done() writes); each quantile
    stands for an equal share of that part's requests. Exact to one step of each part."""
    points: list[tuple[float, float]] = []
    for count, qs in parts:
        if count <= 0 or not qs:
            continue
        weight = count / len(qs)
        points.extend((value, weight) for value in qs)
    points.sort()
    total = sum(w for _, w in points)
    found: dict[float, float | None] = {}
    for p in percents:
        if not points:
            found[p] = None
            continue
        target, seen = total * p / 100, 0.0
        value = points[-1][0]
        for v, w in points:
            seen += w
            if seen >= target - 1e-9:
                value = v
                break
        found[p] = value
    return found


# --- the staff pages' headline (bench/staff.py) --------------------------------------------


def all_ok(statuses: dict[Any, int]) -> bool:
    """Every answer a 200 (the keys are ints here, strings once read back from the JSON)."""
    return {str(code) for code in statuses} == {"200"}


def staff_summary(results: dict[str, Any], cases: int, goal_ms: float) -> dict[str, Any]:
    """The headline figures for make bench: how many pages with a goal met it (p95 under
    the goal, every answer a 200), the slowest of them, and each page's p95. A page answered
    otherwise (a redirect, an error) never meets its goal, however fast."""
    goals = {n: r for n, r in results.items() if r.get("goal_ms") and "p95_ms" in r}
    met = [n for n, r in goals.items() if r["p95_ms"] < goal_ms and all_ok(r["statuses"])]
    worst = max(goals, key=lambda n: goals[n]["p95_ms"], default=None)
    return {
        "cases": cases,
        "goal_p95_ms": goal_ms,
        "pages_met": f"{len(met)} of {len(goals)}",
        "slowest_page": worst,
        "slowest_p95_ms": goals[worst]["p95_ms"] if worst else None,
        "p95_ms": {n: r["p95_ms"] for n, r in results.items() if "p95_ms" in r},
    }


# --- the combined summary of make bench ----------------------------------------------------


def headline(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The scalar figures of a benchmark's top-level "summary" (one level of nesting
    flattened as "parent.child"), in their order: what make bench prints for it."""
    summary = result.get("summary")
    if not isinstance(summary, dict):
        return []
    rows: list[tuple[str, str]] = []
    for key, value in summary.items():
        if isinstance(value, dict):
            rows.extend(
                (f"{key}.{k}", show(v)) for k, v in value.items() if isinstance(v, _SCALARS)
            )
        elif isinstance(value, _SCALARS):
            rows.append((key, show(value)))
    return rows


_SCALARS = (int, float, str, bool, type(None))


def show(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "-"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def read_results(out: Path, names: Iterable[str], since: float | None = None) -> list[dict]:
    """For each JSON file name in OUT: its headline figures, or why there are none (missing,
    unreadable, or older than SINCE: from an earlier run)."""
    found = []
    for name in names:
        path = out / name
        entry: dict[str, Any] = {"file": name, "rows": [], "note": ""}
        if not path.exists():
            entry["note"] = "no file"
        elif since is not None and path.stat().st_mtime < since:
            entry["note"] = "not written by this run (older file)"
        else:
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                entry["note"] = f"unreadable: {exc}"
            else:
                entry["rows"] = headline(data) if isinstance(data, dict) else []
                entry["date"] = data.get("date") if isinstance(data, dict) else None
                if not entry["rows"]:
                    entry["note"] = 'no "summary" object in it'
        found.append(entry)
    return found


def format_results(entries: list[dict]) -> str:
    lines = []
    for entry in entries:
        title = entry["file"] + (f"  ({entry['date']})" if entry.get("date") else "")
        lines.append(title)
        if entry["note"]:
            lines.append(f"  {entry['note']}")
        width = max((len(k) for k, _ in entry["rows"]), default=0)
        lines.extend(f"  {key:<{width}}  {value}" for key, value in entry["rows"])
    return "\n".join(lines)
