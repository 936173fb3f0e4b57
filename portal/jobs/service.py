"""Enqueue, claim, run and finish jobs.

A claim sets ``status = running``, adds one to ``attempts`` and gives the worker a lease
(``lease_until``). Every later write of that run is conditional on the job still being this
attempt (``attempts``), so a worker that lost its lease (it stalled, another worker took
the job over) cannot overwrite the newer run's outcome. A handler reports progress through
``JobContext.progress``, which also extends the lease; on PostgreSQL it is written in a
connection of its own, so the exports page sees it while the handler's transaction is
still open. SQLite has one writer at a time, so there progress is written when the job ends
and the lease must cover the longest job (JOBS_LEASE_SECONDS).
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Engine, and_, or_, select, update

from portal import db
from portal.core.nik import scrub
from portal.jobs.kinds import handler_for
from portal.jobs.models import Job, JobStatus

# a failed attempt is tried again after this many seconds times its number
RETRY_SECONDS = 30
# the shortest time between two progress writes of one job
PROGRESS_SECONDS = 1.0
ERROR_MAX = 2000


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def enqueue(kind: str, payload: dict[str, Any], *, total: int | None = None) -> Job:
    """Add a job; the caller's transaction commits it (with whatever the job is about)."""
    job = Job(
        kind=kind,
        payload=payload,
        status=JobStatus.QUEUED.value,
        attempts=0,
        max_attempts=int(current_app.config["JOBS_MAX_ATTEMPTS"]),
        run_after=db.utcnow(),
        progress_done=0,
        progress_total=total,
        created_at=db.utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    return job


@dataclass
class JobContext:
    """What a handler gets: the job's payload, and a way to report progress."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    lease_seconds: int
    engine: Engine
    done: int = 0
    total: int | None = None
    _written_at: float = field(default=0.0, repr=False)

    def progress(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        """DONE of TOTAL units so far. Written (and the lease extended) at most once a second
        on PostgreSQL; kept for the end of the job on SQLite."""
        self.done = done
        if total is not None:
            self.total = total
        if self.engine.dialect.name == "sqlite":
            return
        now = time.monotonic()
        if not force and now - self._written_at < PROGRESS_SECONDS:
            return
        self._written_at = now
        with self.engine.begin() as conn:
            conn.execute(
                update(Job)
                .where(Job.id == self.id, Job.attempts == self.attempt)
                .values(
                    progress_done=self.done,
                    progress_total=self.total,
                    heartbeat_at=db.utcnow(),
                    lease_until=db.utcnow() + timedelta(seconds=self.lease_seconds),
                )
            )


def _claimable(now: Any) -> Any:
    return or_(
        and_(Job.status == JobStatus.QUEUED.value, Job.run_after <= now),
        and_(Job.status == JobStatus.RUNNING.value, Job.lease_until < now),
    )


def claim(worker: str | None = None) -> JobContext | None:
    """Take the oldest job that is due (or whose worker's lease ran out) and commit the
    claim. None when nothing is due. Two workers never claim the same run: on PostgreSQL
    the candidate row is locked (SKIP LOCKED: the other worker takes the next one), and on
    both engines the claim is an update conditional on the job still being claimable."""
    lease = int(current_app.config["JOBS_LEASE_SECONDS"])
    while True:
        now = db.utcnow()
        candidate = db.session.execute(
            select(Job.id, Job.attempts, Job.max_attempts, Job.status)
            .where(_claimable(now))
            .order_by(Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if candidate is None:
            db.session.rollback()
            return None
        ident, attempts, max_attempts, status = candidate
        if status == JobStatus.RUNNING.value and attempts >= max_attempts:
            # its last attempt's worker died: no attempt is left
            _finish(
                ident,
                attempts,
                JobStatus.FAILED,
                error="the worker stopped during the last attempt (lease expired)",
            )
            continue
        claimed = db.session.execute(
            update(Job)
            .where(Job.id == ident, Job.attempts == attempts, _claimable(now))
            .values(
                status=JobStatus.RUNNING.value,
                attempts=attempts + 1,
                worker=worker or worker_name(),
                lease_until=now + timedelta(seconds=lease),
                heartbeat_at=now,
                started_at=now,
                finished_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        if db.rowcount(claimed) != 1:
            db.session.rollback()  # another worker was quicker
            continue
        job = db.session.execute(
            select(Job.kind, Job.payload, Job.progress_total).where(Job.id == ident)
        ).one()
        db.session.commit()
        return JobContext(
            id=ident,
            kind=job.kind,
            payload=dict(job.payload or {}),
            attempt=attempts + 1,
            lease_seconds=lease,
            engine=db.get_engine(),
            total=job.progress_total,
        )


def _finish(
    ident: int,
    attempt: int,
    status: JobStatus,
    *,
    error: str | None = None,
    context: JobContext | None = None,
    retry_in: int = 0,
) -> bool:
    """Record a run's outcome if the job is still this attempt's; commit. False if the
    lease was lost meanwhile (another worker runs it now: its outcome counts)."""
    now = db.utcnow()
    values: dict[str, Any] = {"status": status.value, "lease_until": None, "error": error}
    if status is JobStatus.QUEUED:
        values["run_after"] = now + timedelta(seconds=retry_in)
    else:
        values["finished_at"] = now
    if context is not None:
        values["progress_done"] = context.done
        values["progress_total"] = context.total
    result = db.session.execute(
        update(Job)
        .where(Job.id == ident, Job.attempts == attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return db.rowcount(result) == 1


def describe(exc: BaseException) -> str:
    """The error as recorded: type and message, the last frame, no 16-digit numbers."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    # a database error repeats its statement's parameters: keep the first line only
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return scrub(f"{type(exc).__name__}: {first}{where}")[:ERROR_MAX]


@dataclass(frozen=True)
class Outcome:
    id: int
    kind: str
    status: JobStatus
    seconds: float
    error: str | None = None


def run(context: JobContext) -> Outcome:
    """Run a claimed job's handler and record what came of it."""
    started = time.monotonic()
    try:
        handler: Callable[[JobContext], None] = handler_for(context.kind)
        handler(context)
    except Exception as exc:  # recorded on the job; the worker goes on with the next one
        db.session.rollback()
        error = describe(exc)
        current_app.logger.warning("job %s (%s) failed: %s", context.id, context.kind, error)
        last = context.attempt >= _max_attempts(context.id)
        status = JobStatus.FAILED if last else JobStatus.QUEUED
        _finish(
            context.id,
            context.attempt,
            status,
            error=error,
            context=context,
            retry_in=RETRY_SECONDS * context.attempt,
        )
        return Outcome(context.id, context.kind, status, time.monotonic() - started, error)
    _finish(context.id, context.attempt, JobStatus.DONE, context=context)
    return Outcome(context.id, context.kind, JobStatus.DONE, time.monotonic() - started)


def _max_attempts(ident: int) -> int:
    return int(db.session.scalar(select(Job.max_attempts).where(Job.id == ident)) or 1)


def recent(limit: int = 20, status: str | None = None) -> list[Job]:
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Job.status == status)
    return list(db.session.scalars(stmt))
