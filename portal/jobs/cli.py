"""``flask --app portal jobs ...``: the background worker and a look at the queue."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from portal.jobs import service
from portal.jobs.models import JobStatus

jobs_cli = AppGroup("jobs", help="Background jobs (large exports).")


class _Stop:
    """SIGTERM/SIGINT: finish the job in hand, then stop (systemd stops the unit so)."""

    requested = False

    def __call__(self, _signum: int, _frame: Any) -> None:
        self.requested = True


@jobs_cli.command("work")
@click.option("--once", is_flag=True, help="Run at most one job, then stop.")
@click.option("--burst", is_flag=True, help="Run jobs until none is due, then stop (cron, tests).")
@click.option(
    "--sleep",
    "poll",
    type=float,
    default=None,
    help="Seconds to wait when no job is due (default: JOBS_POLL_SECONDS).",
)
def work_command(once: bool, burst: bool, poll: float | None) -> None:
    """Claim due jobs one at a time and run them, until stopped (systemd:
    dtsen-portal-jobs.service). A job whose worker died is taken over once its lease
    (JOBS_LEASE_SECONDS) has run out; a failed attempt is retried up to JOBS_MAX_ATTEMPTS
    times. Prints one line per job."""
    # current_app is a LocalProxy, typed as the Flask app it stands for
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    wait = float(app.config["JOBS_POLL_SECONDS"] if poll is None else poll)
    stop = _Stop()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    ran = 0
    while not stop.requested:
        with app.app_context():  # a fresh session per job
            context = service.claim()
            if context is None:
                if once or burst:
                    break
                outcome = None
            else:
                outcome = service.run(context)
        if outcome is None:
            time.sleep(wait)
            continue
        ran += 1
        line = f"job {outcome.id} {outcome.kind}: {outcome.status} in {outcome.seconds:.1f} s"
        click.echo(line + (f" ({outcome.error})" if outcome.error else ""))
        if once:
            break
    if once or burst:
        click.echo(f"{ran} job(s) run")


@jobs_cli.command("list")
@click.option("--limit", type=int, default=20, show_default=True, help="How many, newest first.")
@click.option(
    "--status",
    type=click.Choice([s.value for s in JobStatus]),
    default=None,
    help="Only jobs in this status.",
)
def list_command(limit: int, status: str | None) -> None:
    """The newest jobs: id, kind, status, attempts, progress, times and the last error."""
    rows = service.recent(limit, status)
    if not rows:
        click.echo("no jobs")
        return
    click.echo(f"{'id':>6}  {'kind':<10} {'status':<8} {'try':>3}  {'progress':<15} created")
    for job in rows:
        total = "?" if job.progress_total is None else str(job.progress_total)
        progress = f"{job.progress_done}/{total}"
        created = job.created_at.strftime("%Y-%m-%d %H:%M:%SZ")
        click.echo(
            f"{job.id:>6}  {job.kind:<10} {job.status:<8} {job.attempts:>3}  {progress:<15} "
            f"{created}"
        )
        if job.error:
            click.echo(f"        error: {job.error}")
