"""The suite's --shard split (tests/fixtures/shard.py): each test in exactly one part, the
parts' work close, the same split in every process. And --measure-only's choice of tests
(tests/fixtures/coverage_scope.py)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.fixtures.coverage_scope import wanted
from tests.fixtures.shard import parse, recorded, split, work


def modules(count: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    return {f"tests/p{i % 7}/test_m{i}.py": rng.uniform(0.2, 40.0) for i in range(count)}


@pytest.mark.parametrize("parts", [1, 2, 3, 5])
def test_every_module_is_in_exactly_one_part(parts: int) -> None:
    work = modules(120, seed=parts)
    chosen = split(work, parts)
    assert len(chosen) == parts
    assert sum(len(part) for part in chosen) == len(work)
    assert set().union(*chosen) == set(work)


def test_the_parts_end_within_one_module_of_each_other() -> None:
    work = modules(150, seed=7)
    loads = sorted(sum(work[m] for m in part) for part in split(work, 2))
    assert loads[1] - loads[0] <= max(work.values())
    assert loads[0] > 0.45 * sum(work.values())


def test_the_split_does_not_depend_on_the_order_of_collection() -> None:
    work = modules(80, seed=3)
    shuffled = list(work.items())
    random.Random(1).shuffle(shuffled)
    assert split(work, 2) == split(dict(shuffled), 2)


def test_a_module_weighs_its_recorded_seconds_or_its_tests_at_the_mean() -> None:
    counts = {"tests/a/test_slow.py": 3, "tests/test_new.py": 4}
    seconds = {"tests/a/test_slow.py": 30.0, "tests/gone/test_old.py": 9.0}
    assert work(counts, seconds, per_test=0.5) == {
        "tests/a/test_slow.py": 30.0,
        "tests/test_new.py": 2.0,
    }


def test_a_missing_or_broken_durations_file_is_no_record(tmp_path: Path) -> None:
    assert recorded(tmp_path / "none.json") == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert recorded(tmp_path / "bad.json") == {}
    (tmp_path / "list.json").write_text("[1, 2]")
    assert recorded(tmp_path / "list.json") == {}


@pytest.mark.parametrize("bad", ["0/2", "3/2", "1", "a/b", "1/0", ""])
def test_a_malformed_shard_is_a_usage_error(bad: str) -> None:
    with pytest.raises(pytest.UsageError):
        parse(bad)


def test_a_shard_is_parsed() -> None:
    assert parse("2/3") == (2, 3)


pytest_plugins = ["pytester"]


def test_a_part_imports_only_its_own_test_modules(pytester: pytest.Pytester) -> None:
    """Each test module is imported (its asserts rewritten) in exactly one part: the split is
    made from the file names before collection, and every test runs once in all."""
    pytester.makeconftest('pytest_plugins = ["tests.fixtures.shard"]')
    imported = pytester.path / "imported.txt"
    for i in range(6):
        pytester.makepyfile(
            **{
                f"pkg{i % 2}/test_m{i}": (
                    f"with open({str(imported)!r}, 'a') as out:\n    out.write('m{i}\\n')\n"
                    + "".join(f"def test_{t}():\n    pass\n" for t in range(i + 1))
                )
            }
        )
    ran = 0
    for part in ("1/2", "2/2"):
        result = pytester.runpytest_inprocess("--shard", part, "-p", "no:cacheprovider")
        outcomes = result.parseoutcomes()
        assert "deselected" not in outcomes  # nothing of another part was collected
        ran += outcomes["passed"]
    lines = imported.read_text().split()
    assert sorted(lines) == [f"m{i}" for i in range(6)]  # each module once, in one part
    assert ran == sum(range(1, 7))


@pytest.mark.parametrize(
    ("nodeid", "expected"),
    [
        ("tests/lookup/test_smoke.py::test_a", True),  # under a directory
        ("tests/test_config.py::test_b[x]", True),  # a module
        ("tests/lookup_extra/test_c.py::test_c", False),  # a name that only starts alike
        ("tests/test_config_more.py::test_d", False),
        ("tests/appeals/test_filing.py::test_e", False),
    ],
)
def test_measure_only_picks_the_tests_under_its_paths(nodeid: str, expected: bool) -> None:
    assert wanted(nodeid, ("tests/lookup", "tests/test_config.py")) is expected


def test_database_tests_only_leaves_out_the_tests_that_use_no_database(
    pytester: pytest.Pytester,
) -> None:
    """make test-both's PostgreSQL parts: a test that asks for the database, itself or through
    another fixture, runs; one that does not is deselected (it ran in the SQLite parts)."""
    pytester.makeconftest('pytest_plugins = ["tests.fixtures.db"]')
    pytester.makepyfile(
        test_mixed=(
            "import pytest\n"
            "@pytest.fixture\n"
            "def database_url():\n"
            "    return 'sqlite://'\n"
            "@pytest.fixture\n"
            "def through(database_url):\n"
            "    return database_url\n"
            "def test_asks(database_url):\n"
            "    pass\n"
            "def test_asks_through_a_fixture(through):\n"
            "    pass\n"
            "def test_pure_logic():\n"
            "    pass\n"
        )
    )
    only = pytester.runpytest_inprocess("--database-tests-only", "-p", "no:cacheprovider", "-v")
    only.assert_outcomes(passed=2, deselected=1)
    assert "test_pure_logic" not in only.stdout.str()
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
