"""``flask --app portal notify ...``: the notification worker, one pass, and the admin's look
at the outbox (docs/notifications.md)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from portal.notify import service
from portal.notify.contacts import mask
from portal.notify.senders import Sender

notify_cli = AppGroup("notify", help="Send the notification outbox (e-mail and SMS).")

IDLE_MAX_SECONDS = 60.0


class _Stop:
    """SIGTERM/SIGINT: finish the message in hand, then stop (systemd stops the unit so)."""

    requested = False

    def __call__(self, _signum: int, _frame: Any) -> None:
        self.requested = True


def _ready() -> dict[str, Sender]:
    """The configured senders; refuse to start without PUBLIC_BASE_URL (every message links
    to the tracking page) or without any channel."""
    if not current_app.config.get("PUBLIC_BASE_URL"):
        raise click.ClickException(
            "Set PUBLIC_BASE_URL: every message gives the address of the tracking page."
        )
    senders = service.senders()
    if not senders:
        raise click.ClickException(
            "No channel is configured: set SMTP_HOST (e-mail) and/or SMS_GATEWAY_URL (SMS)."
        )
    return senders


def _echo(outcome: service.Outcome) -> None:
    line = f"message {outcome.id} {outcome.channel}: {outcome.status} (attempt {outcome.attempt})"
    click.echo(line + (f": {outcome.error}" if outcome.error else ""))


@notify_cli.command("send")
def send_command() -> None:
    """Send every message that is due, each at most once, then stop. Exit status 1 if any
    attempt failed (the message is queued again or, with no attempt left, failed)."""
    senders = _ready()
    outcomes = service.run_pass(senders)
    for outcome in outcomes:
        _echo(outcome)
    sent = sum(o.status == service.SENT for o in outcomes)
    click.echo(f"{sent} sent, {len(outcomes) - sent} not sent")
    if sent != len(outcomes):
        sys.exit(1)


@notify_cli.command("run")
@click.option(
    "--sleep",
    "poll",
    type=float,
    default=None,
    help="Seconds to wait when nothing is due, doubled while idle up to 60 (default: "
    "NOTIFY_POLL_SECONDS).",
)
def run_command(poll: float | None) -> None:
    """The worker (systemd: dtsen-portal-notify.service): send due messages one at a time
    until stopped. SIGTERM lets the message in hand finish. Prints one line per attempt."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    senders = _ready()
    click.echo("notify: sending " + ", ".join(sorted(senders)))
    base = float(app.config["NOTIFY_POLL_SECONDS"] if poll is None else poll)
    stop = _Stop()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    idle = 0
    while not stop.requested:
        with app.app_context():  # a fresh session per message
            outcomes = service.run_pass(senders, limit=1)
        for outcome in outcomes:
            _echo(outcome)
        if outcomes:
            idle = 0
            continue
        wait = min(base * 2**idle, max(IDLE_MAX_SECONDS, base))
        idle = min(idle + 1, 16)
        deadline = time.monotonic() + wait
        while not stop.requested and time.monotonic() < deadline:
            time.sleep(min(0.2, wait))
    click.echo("notify: stopped")


@notify_cli.command("list")
@click.option(
    "--status",
    "statuses",
    type=click.Choice(service.STATUSES),
    multiple=True,
    help="Only messages in this status (repeatable; default: all not sent).",
)
@click.option("--limit", type=int, default=50, show_default=True, help="How many, oldest first.")
def list_command(statuses: tuple[str, ...], limit: int) -> None:
    """Messages not sent (or of --status): id, channel, status, attempts, next try, masked
    recipient and the last error; first a count per status."""
    counts = service.counts()
    click.echo("  ".join(f"{status}: {counts.get(status, 0)}" for status in service.STATUSES))
    chosen = statuses or tuple(s for s in service.STATUSES if s != service.SENT)
    rows = service.listing(chosen, limit)
    if not rows:
        click.echo("no messages")
        return
    click.echo(f"{'id':>7}  {'channel':<7} {'status':<8} {'try':>3}  {'next try':<20} to")
    for m in rows:
        due = m.next_attempt_at.strftime("%Y-%m-%d %H:%M:%SZ") if m.next_attempt_at else "now"
        if m.status in (service.SENT, service.FAILED):
            due = "-"
        click.echo(
            f"{m.id:>7}  {m.channel:<7} {m.status:<8} {m.attempts:>3}  {due:<20} "
            f"{mask(m.channel, m.recipient)}"
        )
        if m.last_error:
            click.echo(f"         last error: {m.last_error}")


@notify_cli.command("retry")
@click.argument("ids", type=int, nargs=-1, required=True)
def retry_command(ids: tuple[int, ...]) -> None:
    """Queue failed messages IDS again (attempts from zero), e.g. an e-mail whose outcome is
    unknown once you know it did not arrive, or after fixing a refused setting."""
    moved = service.retry(ids)
    click.echo(f"{moved} message(s) queued again")
    if moved != len(set(ids)):
        click.echo("(only failed messages are queued again)")
