"""``flask --app portal audit ...``: checks of the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal import db
from portal.audit import chain
from portal.audit.models import AuditChain, AuditEvent, AuditSeal

audit_cli = AppGroup("audit", help="The audit trail of staff actions.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Check that no audit row was deleted, changed, or written past the portal.

    Walks the hash chain from the first seal to the recorded head. Exits 1 and lists the
    problems if there is any. Run it daily (or before handing the trail to an inspector).
    """
    head = db.session.get(AuditChain, 1)
    if head is None:
        raise click.ClickException("no audit chain: run `flask --app portal db upgrade`")
    unsealed = db.session.scalars(
        select(AuditEvent.id)
        .where(~select(AuditSeal.seq).where(AuditSeal.audit_id == AuditEvent.id).exists())
        .order_by(AuditEvent.id)
    )
    problems = chain.verify(_sealed_rows(), (head.seq, head.head), unsealed)
    if problems:
        for problem in problems[:50]:
            click.echo(problem, err=True)
        if len(problems) > 50:
            click.echo(f"... and {len(problems) - 50} more", err=True)
        raise click.ClickException(f"the audit trail is not whole: {len(problems)} problem(s)")
    click.echo(f"audit trail whole: {head.seq} row(s), head {head.head[:16]}")


def _sealed_rows() -> Iterator[tuple[chain.Seal, dict[str, Any] | None]]:
    columns = [getattr(AuditEvent, name) for name in chain.FIELDS]
    stmt = (
        select(AuditSeal, *columns)
        .outerjoin(AuditEvent, AuditEvent.id == AuditSeal.audit_id)
        .order_by(AuditSeal.seq)
        .execution_options(yield_per=2000)
    )
    for seal, *values in db.session.execute(stmt):
        row = dict(zip(chain.FIELDS, values, strict=True))
        yield (
            chain.Seal(seal.seq, seal.audit_id, seal.prev_hash, seal.row_hash),
            None if row["id"] is None else row,
        )
