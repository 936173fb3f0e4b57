"""bench/summary.py: the pure parts of the benchmarks (merged latency percentiles of make
load, the combined summary of make bench). The benchmarks themselves are not tests."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parent.parent / "bench" / "summary.py"
_spec = importlib.util.spec_from_file_location("bench_summary", PATH)
assert _spec is not None
assert _spec.loader is not None
summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(summary)


def test_quantiles_use_the_nearest_rank_like_wrk() -> None:
    assert summary.quantiles(list(range(100, 0, -1)), steps=4) == [25, 50, 75, 100]
    assert summary.quantiles([7.0], steps=4) == [7.0, 7.0, 7.0, 7.0]
    assert summary.quantiles([]) == []


def test_merged_percentiles_weigh_each_kind_by_its_requests() -> None:
    fast = summary.quantiles([10.0] * 50 + [12.0] * 50)  # 900 requests like these
    slow = summary.quantiles([1000.0] * 100)  # 100 requests like these

    merged = summary.merge_percentiles([(900, fast), (100, slow)], (50, 90, 91, 99))

    assert merged == {50: 12.0, 90: 12.0, 91: 1000.0, 99: 1000.0}


def test_merged_percentiles_of_one_kind_are_its_own() -> None:
    values = [float(v) for v in range(1, 1001)]
    merged = summary.merge_percentiles([(1000, summary.quantiles(values))], (50, 99))
    assert merged == {50: 500.0, 99: 990.0}


def test_merging_skips_empty_kinds_and_says_so_when_nothing_is_left() -> None:
    assert summary.merge_percentiles([(0, [1.0]), (5, [])], (50,)) == {50: None}
    only = summary.merge_percentiles([(0, [1.0]), (3, [4.0, 5.0, 6.0])], (50,))
    assert only == {50: 5.0}


def test_headline_prints_the_summary_scalars_with_one_level_flattened() -> None:
    result = {
        "summary": {
            "requests_per_s": 1234.5,
            "floor": {"requests_per_s_median": 2000.0, "runs": [1, 2]},
            "valid": True,
            "ratio": 0.25,
            "runs": [1, 2, 3],
        },
        "runs": [{"ignored": 1}],
    }
    assert summary.headline(result) == [
        ("requests_per_s", "1,234.5"),
        ("floor.requests_per_s_median", "2,000.0"),
        ("valid", "true"),
        ("ratio", "0.250"),
    ]
    assert summary.headline({"no": "summary"}) == []


@pytest.mark.parametrize(
    ("content", "note"),
    [
        (None, "no file"),
        ("{not json", "unreadable"),
        ('{"date": "x", "figures": {}}', 'no "summary" object'),
    ],
)
def test_results_say_why_a_benchmark_has_no_figures(tmp_path: Path, content, note) -> None:
    if content is not None:
        (tmp_path / "staff.json").write_text(content)
    [entry] = summary.read_results(tmp_path, ["staff.json"])
    assert entry["rows"] == []
    assert entry["note"].startswith(note)


def test_results_from_an_earlier_run_are_not_shown_as_this_run(tmp_path: Path) -> None:
    path = tmp_path / "load.json"
    path.write_text(json.dumps({"date": "then", "summary": {"requests_per_s": 5.0}}))
    os.utime(path, (1_000_000, 1_000_000))

    [old] = summary.read_results(tmp_path, ["load.json"], since=2_000_000)
    [fresh] = summary.read_results(tmp_path, ["load.json"], since=999_000)

    assert old["rows"] == []
    assert "older file" in old["note"]
    assert fresh["rows"] == [("requests_per_s", "5.000")]
    assert "load.json  (then)" in summary.format_results([fresh])


def test_the_staff_headline_counts_a_page_met_only_when_fast_and_answered_200() -> None:
    results = {
        "queue": {"goal_ms": 100.0, "p95_ms": 40.0, "statuses": {200: 50}},
        "dashboard": {"goal_ms": 100.0, "p95_ms": 120.0, "statuses": {200: 50}},
        "redirected": {"goal_ms": 100.0, "p95_ms": 5.0, "statuses": {"302": 50}},
        "overdue": {"goal_ms": None, "p95_ms": 300.0, "statuses": {200: 50}},  # no goal
        "export": {"seconds": 12.0},  # not a page
    }
    found = summary.staff_summary(results, 1_000_000, 100.0)
    assert found["pages_met"] == "1 of 3"
    assert (found["slowest_page"], found["slowest_p95_ms"]) == ("dashboard", 120.0)
    assert found["p95_ms"] == {
        "queue": 40.0,
        "dashboard": 120.0,
        "redirected": 5.0,
        "overdue": 300.0,
    }
    assert summary.all_ok({"200": 3})
    assert not summary.all_ok({200: 3, 500: 1})


_run_all_spec = importlib.util.spec_from_file_location("bench_run_all", PATH.parent / "run_all.py")
assert _run_all_spec is not None
assert _run_all_spec.loader is not None
run_all = importlib.util.module_from_spec(_run_all_spec)
sys.modules[_run_all_spec.name] = run_all  # its dataclass looks its module up there
_run_all_spec.loader.exec_module(run_all)


def _names(chosen: list) -> list[str]:
    return [c if isinstance(c, str) else c.name for c in chosen]


def test_make_bench_runs_every_benchmark_of_the_issue_by_default() -> None:
    chosen = run_all.select([], quick=False)
    assert _names(chosen) == [r.name for r in run_all.RUNS]
    args = {c.name: c.args for c in chosen}
    # both engines for the look-up, 100 k and 10 M on PostgreSQL; both engines for the import
    assert "postgresql" in args["lookup_vs_floor-postgresql"]
    assert "10000000" in args["lookup_vs_floor-postgresql-10m"]
    assert "3600000" in args["import-postgresql"]
    # each run writes its own figures: none overwrites another's
    files = [c.json_file for c in chosen]
    assert len(set(files)) == len(files)
    for run in chosen:
        if "--json" in run.args:
            assert run.args[run.args.index("--json") + 1] == run.json_file


def test_quick_leaves_out_the_long_runs_unless_named() -> None:
    quick = _names(run_all.select([], quick=True))
    assert "lookup_vs_floor-postgresql-10m" not in quick
    assert "import-postgresql" not in quick
    assert "lookup_vs_floor-postgresql" in quick
    assert _names(run_all.select(["import-postgresql"], quick=True)) == ["import-postgresql"]


def test_a_script_name_stands_for_its_runs_and_an_unknown_name_is_kept_to_be_skipped() -> None:
    assert _names(run_all.select(["import", "staff"], quick=False)) == [
        "import-sqlite",
        "import-postgresql",
        "staff",
    ]
    assert _names(run_all.select(["import"], quick=True)) == ["import-sqlite"]
    assert _names(run_all.select(["no_such_bench"], quick=False)) == ["no_such_bench"]
    assert isinstance(run_all.select(["no_such_bench"], quick=False)[0], str)
