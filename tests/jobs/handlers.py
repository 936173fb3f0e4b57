"""Job handlers for the runner's tests (registered per test in kinds.REGISTRY)."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import select

from portal.jobs.models import Job
from portal.jobs.service import JobContext

RAN: list[dict[str, Any]] = []


def record(context: JobContext) -> None:
    """Note the run; sleep if asked; report progress and read it back from outside."""
    time.sleep(float(context.payload.get("sleep", 0)))
    context.progress(5, 10, force=True)
    with context.engine.connect() as conn:  # what another process (the page) sees now
        seen = conn.execute(select(Job.progress_done).where(Job.id == context.id)).scalar()
    RAN.append(
        {
            "id": context.id,
            "attempt": context.attempt,
            "payload": context.payload,
            "thread": threading.current_thread().name,
            "progress_seen": seen,
        }
    )
    context.progress(10, 10)


def boom(context: JobContext) -> None:
    raise RuntimeError(f"printer on fire for 3216014506880002, attempt {context.attempt}")
