"""The background job runner: due jobs are claimed oldest first and run once; a job whose
worker died is claimed again after its lease ran out (and the stale worker cannot record an
outcome); a failed attempt is recorded with its error (numbers scrubbed) and retried up to
JOBS_MAX_ATTEMPTS, then marked failed; two workers on PostgreSQL never run a job twice."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update

from portal import db
from portal.jobs import kinds, service
from portal.jobs.models import Job, JobStatus
from tests.jobs import handlers

postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL (row locks, SKIP LOCKED): set TEST_DATABASE_URL",
)


@pytest.fixture(autouse=True)
def test_kinds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    monkeypatch.setitem(kinds.REGISTRY, "test.record", "tests.jobs.handlers:record")
    monkeypatch.setitem(kinds.REGISTRY, "test.boom", "tests.jobs.handlers:boom")
    handlers.RAN.clear()
    yield handlers.RAN
    handlers.RAN.clear()


def enqueue(app: Flask, kind: str = "test.record", **payload: Any) -> int:
    with app.app_context():
        job = service.enqueue(kind, payload)
        db.session.commit()
        return job.id


def job(app: Flask, ident: int) -> Job:
    with app.app_context():
        found = db.session.get(Job, ident)
        assert found is not None
        return found


def set_job(app: Flask, ident: int, **values: Any) -> None:
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == ident).values(**values))
        db.session.commit()


def work(runner: FlaskCliRunner, *flags: str) -> str:
    result = runner.invoke(args=["jobs", "work", *flags])
    assert result.exit_code == 0, result.output
    return result.output


def test_burst_runs_every_due_job_once_oldest_first_and_records_it_done(
    app: Flask, runner: FlaskCliRunner
) -> None:
    ids = [enqueue(app, n=n) for n in range(3)]
    output = work(runner, "--burst")
    assert [r["id"] for r in handlers.RAN] == ids
    assert [r["payload"] for r in handlers.RAN] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert output.splitlines()[-1] == "3 job(s) run"
    assert f"job {ids[0]} test.record: done in" in output
    for ident in ids:
        done = job(app, ident)
        assert (done.status, done.attempts, done.lease_until) == ("done", 1, None)
        assert (done.progress_done, done.progress_total) == (10, 10)
        assert done.finished_at is not None
        assert done.error is None
    assert work(runner, "--burst").splitlines() == ["0 job(s) run"]  # nothing runs twice


def test_once_runs_only_the_oldest_due_job(app: Flask, runner: FlaskCliRunner) -> None:
    first, second = enqueue(app), enqueue(app)
    assert work(runner, "--once").splitlines()[-1] == "1 job(s) run"
    assert [r["id"] for r in handlers.RAN] == [first]
    assert job(app, second).status == "queued"


def test_a_job_not_yet_due_or_held_by_a_live_worker_is_not_claimed(app: Flask) -> None:
    later = enqueue(app)
    held = enqueue(app)
    with app.app_context():
        now = db.utcnow()
    set_job(app, later, run_after=now + timedelta(minutes=5))
    set_job(app, held, status="running", attempts=1, lease_until=now + timedelta(minutes=5))
    with app.app_context():
        assert service.claim("w1") is None
    assert job(app, later).status == "queued"
    assert (job(app, held).status, job(app, held).attempts) == ("running", 1)


def test_progress_is_visible_to_others_while_the_job_runs_on_postgresql(
    app: Flask, runner: FlaskCliRunner, db_url: str
) -> None:
    enqueue(app)
    work(runner, "--burst")
    [run] = handlers.RAN
    # SQLite has one writer: progress is written when the job ends (portal/jobs/service.py)
    assert run["progress_seen"] == (5 if db_url.startswith("postgresql") else 0)


def test_a_job_whose_worker_died_is_claimed_again_after_its_lease_ran_out(
    app: Flask,
) -> None:
    ident = enqueue(app)
    with app.app_context():
        dead = service.claim("worker-that-dies")
        assert dead is not None
        assert (dead.id, dead.attempt) == (ident, 1)
    claimed = job(app, ident)
    assert (claimed.status, claimed.worker) == ("running", "worker-that-dies")
    assert claimed.lease_until is not None
    with app.app_context():
        assert service.claim("w2") is None  # its lease still runs

    set_job(app, ident, lease_until=claimed.lease_until - timedelta(hours=1))
    with app.app_context():
        again = service.claim("w2")
        assert again is not None
        assert (again.id, again.attempt) == (ident, 2)
        # the first worker wakes up: its outcome is refused, the job stays with w2
        assert service._finish(dead.id, dead.attempt, JobStatus.DONE) is False
        assert service.run(again).status is JobStatus.DONE
    finished = job(app, ident)
    assert (finished.status, finished.attempts, finished.worker) == ("done", 2, "w2")
    assert [r["attempt"] for r in handlers.RAN] == [2]


def test_a_lease_that_runs_out_on_the_last_attempt_fails_the_job(app: Flask) -> None:
    ident = enqueue(app)
    with app.app_context():
        past = db.utcnow() - timedelta(minutes=1)
    set_job(app, ident, status="running", attempts=3, max_attempts=3, lease_until=past)
    with app.app_context():
        assert service.claim("w") is None
    failed = job(app, ident)
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert failed.error == "the worker stopped during the last attempt (lease expired)"
    assert handlers.RAN == []


def test_a_failing_job_records_its_error_is_retried_later_then_marked_failed(
    app: Flask, runner: FlaskCliRunner
) -> None:
    app.config["JOBS_MAX_ATTEMPTS"] = 2
    ident = enqueue(app, "test.boom")
    output = work(runner, "--burst")
    assert f"job {ident} test.boom: queued in" in output
    first = job(app, ident)
    assert (first.status, first.attempts, first.finished_at) == ("queued", 1, None)
    assert first.error is not None
    assert first.error.startswith("RuntimeError: printer on fire for [NIK], attempt 1 (at ")
    assert "3216014506880002" not in output + first.error  # no number in the record or log
    assert first.run_after > db.utcnow() + timedelta(seconds=20)  # retried later, not now
    assert work(runner, "--burst").splitlines() == ["0 job(s) run"]

    set_job(app, ident, run_after=db.utcnow() - timedelta(seconds=1))
    output = work(runner, "--burst")
    assert f"job {ident} test.boom: failed in" in output
    last = job(app, ident)
    assert (last.status, last.attempts) == ("failed", 2)
    assert last.error is not None
    assert "attempt 2" in last.error
    assert last.finished_at is not None
    assert work(runner, "--burst").splitlines() == ["0 job(s) run"]  # failed stays failed


def test_a_job_of_an_unknown_kind_fails_naming_the_kind(app: Flask, runner: FlaskCliRunner) -> None:
    app.config["JOBS_MAX_ATTEMPTS"] = 1
    ident = enqueue(app, "no.such.kind")
    work(runner, "--burst")
    failed = job(app, ident)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.startswith("UnknownKind: no.such.kind")


def test_jobs_list_shows_status_attempts_progress_and_the_error(
    app: Flask, runner: FlaskCliRunner
) -> None:
    app.config["JOBS_MAX_ATTEMPTS"] = 1
    done, failed = enqueue(app), enqueue(app, "test.boom")
    work(runner, "--burst")
    waiting = enqueue(app)
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "kind", "status", "try", "progress", "created"]
    rows = [line.split()[:5] for line in lines[1:] if not line.startswith(" " * 8)]
    assert rows == [
        [str(waiting), "test.record", "queued", "0", "0/?"],
        [str(failed), "test.boom", "failed", "1", "0/?"],
        [str(done), "test.record", "done", "1", "10/10"],
    ]
    assert "error: RuntimeError: printer on fire for [NIK], attempt 1" in result.output
    only = runner.invoke(args=["jobs", "list", "--status", "failed"])
    assert [line.split()[0] for line in only.output.splitlines()[1:2]] == [str(failed)]


@postgres
def test_a_job_locked_by_one_worker_is_skipped_by_another(app: Flask) -> None:
    first, second = enqueue(app), enqueue(app)
    engine = app.extensions["db_engine"]
    with engine.connect() as holder:  # worker A, between its select and its update
        holder.execute(select(Job.id).where(Job.id == first).with_for_update())
        with app.app_context():
            claimed = service.claim("worker-b")
            assert claimed is not None
            assert claimed.id == second  # SKIP LOCKED: B took the next one, without waiting
        holder.rollback()


@postgres
def test_two_workers_never_run_a_job_twice(app: Flask) -> None:
    ids = [enqueue(app, sleep=0.02) for _ in range(12)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            while True:
                with app.app_context():
                    context = service.claim()
                    if context is None:
                        return
                    service.run(context)
        except BaseException as exc:  # reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, name=f"w{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(r["id"] for r in handlers.RAN) == ids  # each exactly once
    assert {job(app, i).status for i in ids} == {"done"}
    assert {job(app, i).attempts for i in ids} == {1}
