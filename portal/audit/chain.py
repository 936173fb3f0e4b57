"""The audit trail's hash chain (pure: no Flask, no database).

Every audit row gets a seal: its place in one sequence for the whole portal and the
SHA-256 of its canonical content together with the seal before it. Deleting a row leaves a
seal without its row; editing one changes its hash; inserting one past the portal leaves a
row without a seal; cutting the tail makes the chain shorter than its recorded head. Each
shows up in ``verify``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The columns of an audit row that its hash covers: all of them.
FIELDS = (
    "id",
    "at",
    "staff_id",
    "role",
    "office_code",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
    "reason",
    "ip_prefix",
)


def canonical(row: Mapping[str, Any]) -> bytes:
    """The row as bytes that do not depend on the engine or the order of keys."""
    values = {}
    for name in FIELDS:
        value = row.get(name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        values[name] = value
    return json.dumps(values, sort_keys=True, separators=(",", ":"), default=str).encode()


def link(previous: str, row: Mapping[str, Any]) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + canonical(row)).hexdigest()


@dataclass(frozen=True)
class Seal:
    seq: int
    audit_id: int
    prev_hash: str
    row_hash: str


def verify(
    sealed_rows: Iterable[tuple[Seal, Mapping[str, Any] | None]],
    head: tuple[int, str],
    unsealed: Iterable[int] = (),
    *,
    start: tuple[int, str] = (0, GENESIS),
) -> list[str]:
    """Problems found, in order ([] when the trail is whole).

    SEALED_ROWS: each seal in sequence order with its audit row (None if the row is gone);
    HEAD: the recorded (seq, hash) of the last seal; UNSEALED: ids of audit rows that have
    no seal; START: where the chain begins (the seal before the first one kept, after a
    documented purge of old rows).
    """
    problems: list[str] = []
    expected_seq, previous = start[0] + 1, start[1]
    for seal, row in sealed_rows:
        if seal.seq != expected_seq:
            problems.append(f"seal {expected_seq} is missing (next is {seal.seq})")
        if seal.prev_hash != previous:
            problems.append(f"seal {seal.seq} does not follow seal {seal.seq - 1}")
        if row is None:
            problems.append(f"audit row {seal.audit_id} (seal {seal.seq}) was deleted")
        elif link(seal.prev_hash, row) != seal.row_hash:
            problems.append(f"audit row {seal.audit_id} (seal {seal.seq}) was changed")
        expected_seq, previous = seal.seq + 1, seal.row_hash
    if (expected_seq - 1, previous) != head:
        problems.append(f"the chain ends at seal {expected_seq - 1}, the head says {head[0]}")
    problems += [f"audit row {i} has no seal (written past the portal)" for i in unsealed]
    return problems
