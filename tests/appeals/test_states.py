"""The state machine of a case: every (from, to) pair is tried through service.transition;
exactly the moves of DOMAIN.md succeed, each records one event, and two moves racing on
the same case cannot both win."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import db
from portal.appeals import errors, service
from portal.appeals.models import Appeal, AppealEvent
from portal.appeals.states import ALLOWED, DECIDED, OPEN, AppealStatus
from tests.fixtures.factories import make_appeal

S = AppealStatus

# Written out from DOMAIN.md ("States"), independently of states.ALLOWED.
DOMAIN_MOVES = {
    (S.DITERIMA, S.VERIFIKASI),
    (S.DITERIMA, S.DIBATALKAN),
    (S.VERIFIKASI, S.DISETUJUI),
    (S.VERIFIKASI, S.DITOLAK),
    (S.VERIFIKASI, S.DUPLIKAT),
    (S.VERIFIKASI, S.DIBATALKAN),
    (S.DISETUJUI, S.DITERUSKAN),
    (S.DITERUSKAN, S.SELESAI),
}
PAIRS = list(product(AppealStatus, repeat=2))


def make_case(app: Flask, status: AppealStatus) -> int:
    """A case already in STATUS, written directly (how it got there is not the point)."""
    with app.app_context():
        now = db.utcnow()
        appeal = make_appeal(
            status=status,
            region="32.16.01.2001",
            filer_nik_hmac="f" * 32,
            filer_kk_hmac="k" * 32,
            subject_nik_hmac="s" * 32,
            subject_nik="3216010101800002",
            subject_kk_hmac="h" * 32,
            now=now - timedelta(days=2),
            due_at=now + timedelta(days=12),
        )
        db.session.add(appeal)
        db.session.commit()
        return appeal.id


def read_case(app: Flask, case_id: int) -> Appeal:
    """The case as stored, with its events (read before it leaves the session)."""
    with app.app_context():
        appeal = db.session.get(Appeal, case_id, options=[selectinload(Appeal.events)])
        assert appeal is not None
        return appeal


def event_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AppealEvent)) or 0


def test_allowed_moves_are_exactly_those_of_the_domain() -> None:
    allowed = {(before, after) for before, targets in ALLOWED.items() for after in targets}
    assert allowed == DOMAIN_MOVES
    assert set(ALLOWED) == set(AppealStatus)


@pytest.mark.parametrize(
    ("before", "after"), PAIRS, ids=[f"{b.value}->{a.value}" for b, a in PAIRS]
)
def test_transition_succeeds_exactly_for_allowed_moves(
    app: Flask, before: AppealStatus, after: AppealStatus
) -> None:
    case_id = make_case(app, before)
    untouched = read_case(app, case_id)

    with app.app_context():
        appeal = db.session.get(Appeal, case_id)
        if (before, after) in DOMAIN_MOVES:
            service.transition(
                appeal,
                after,
                actor="staff",
                staff_id=7,
                note="Checked in the field.",
                decision_reason="verified_in_field",
            )
            db.session.commit()
        else:
            with pytest.raises(errors.InvalidTransition):
                service.transition(appeal, after, actor="staff", staff_id=7)

    moved = read_case(app, case_id)
    if (before, after) not in DOMAIN_MOVES:
        assert moved.status == before.value
        assert moved.updated_at == untouched.updated_at
        assert moved.decided_at is None
        assert moved.events == []
        return
    assert moved.status == after.value
    assert moved.updated_at > untouched.updated_at
    assert [(e.from_status, e.to_status, e.actor, e.actor_staff_id) for e in moved.events] == [
        (before.value, after.value, "staff", 7)
    ]
    if after in DECIDED:
        assert moved.decided_at is not None
        assert moved.decision_reason == "verified_in_field"
        assert moved.decision_note == "Checked in the field."
    else:
        assert moved.decided_at is None
        assert moved.decision_reason is None


@pytest.mark.parametrize("before", sorted(OPEN))
def test_filer_withdraws_an_open_case(app: Flask, before: AppealStatus) -> None:
    case_id = make_case(app, before)
    with app.app_context():
        service.withdraw(db.session.get(Appeal, case_id))
    moved = read_case(app, case_id)
    assert moved.status == "dibatalkan"
    assert [(e.from_status, e.actor) for e in moved.events] == [(before.value, "filer")]


@pytest.mark.parametrize("before", sorted(set(AppealStatus) - OPEN))
def test_withdrawing_a_case_that_is_not_open_is_refused(app: Flask, before: AppealStatus) -> None:
    case_id = make_case(app, before)
    with app.app_context(), pytest.raises(errors.InvalidTransition):
        service.withdraw(db.session.get(Appeal, case_id))
    assert read_case(app, case_id).status == before.value
    assert event_count(app) == 0


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (S.VERIFIKASI, S.DIBATALKAN),  # staff take it up while the filer withdraws
        (S.DIBATALKAN, S.VERIFIKASI),
        (S.VERIFIKASI, S.VERIFIKASI),  # two officers claim it at once
    ],
)
def test_two_moves_racing_on_one_case_only_one_wins(
    app: Flask, first: AppealStatus, second: AppealStatus
) -> None:
    case_id = make_case(app, S.DITERIMA)
    one, two = app.app_context(), app.app_context()
    one.push()
    try:
        seen_by_one = db.session.get(Appeal, case_id)
        two.push()
        try:
            seen_by_two = db.session.get(Appeal, case_id)
            assert seen_by_two.status == "diterima"
            service.transition(seen_by_two, first, actor="staff", staff_id=1)
            db.session.commit()
        finally:
            two.pop()
        assert seen_by_one.status == "diterima"  # a stale copy: the other move is unseen
        with pytest.raises(errors.InvalidTransition):
            service.transition(seen_by_one, second, actor="staff", staff_id=2)
        db.session.commit()
    finally:
        one.pop()

    final = read_case(app, case_id)
    assert final.status == first.value
    assert [(e.to_status, e.actor_staff_id) for e in final.events] == [(first.value, 1)]


def test_a_move_is_part_of_the_callers_transaction(app: Flask) -> None:
    case_id = make_case(app, S.DITERIMA)
    with app.app_context():
        service.transition(db.session.get(Appeal, case_id), S.VERIFIKASI, actor="staff")
        db.session.rollback()
    assert read_case(app, case_id).status == "diterima"
    assert event_count(app) == 0
