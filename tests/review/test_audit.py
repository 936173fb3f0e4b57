"""Audit completeness: every staff action done through HTTP writes exactly one audit row that
says who (staff id, role, office), what and on what; reading a case also logs the access to the
household's data; and no code path ever changes or deletes an audit row."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

import portal
from portal import db
from portal.appeals.states import AppealStatus
from portal.audit.models import AuditEvent
from portal.lookup.models import AccessEvent
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client
from tests.review.conftest import DECISION, NOTE, CaseFactory, audit, count, english, get, post

S = AppealStatus


@dataclass
class Env:
    app: Flask
    staff: StaffFactory
    cases: CaseFactory
    sign_in: Callable[[Officer], Client]


@dataclass(frozen=True)
class Expected:
    action: str
    actor: Officer | None  # None: nobody signed in (a failed sign-in)
    target_type: str
    target_id: int | None


Action = tuple[Callable[[], object], Expected]


def sign_in(env: Env) -> Action:
    officer = env.staff.create("verifikator")
    return lambda: env.sign_in(officer), Expected("login", officer, "staff", officer.id)


def failed_sign_in(env: Env) -> Action:
    officer = env.staff.create("verifikator")
    client = english(env.app.test_client())  # type: ignore[arg-type]
    data = {"email": officer.email, "password": "not the password", "code": "123456"}
    return (
        lambda: client.post_form("/staf/masuk", data, status=400),
        Expected("login_failed", None, "staff", officer.id),
    )


def view_case(env: Env) -> Action:
    officer, case = env.staff.create("admin_dinsos"), env.cases.make()
    client = env.sign_in(officer)
    return (
        lambda: get(client, f"/staf/kasus/{case.id}"),
        Expected("view_case", officer, "appeal", case.id),
    )


def view_photo(env: Env) -> Action:
    officer, case = env.staff.create("pusat"), env.cases.make()
    photo, client = env.cases.photo(case), env.sign_in(officer)
    return (
        lambda: client.get(f"/staf/kasus/{case.id}/foto/{photo}").close(),
        Expected("view_photo", officer, "appeal", case.id),
    )


def claim(env: Env) -> Action:
    officer, case = env.staff.create("verifikator"), env.cases.make()
    client = env.sign_in(officer)
    return (
        lambda: post(client, f"/staf/kasus/{case.id}/ambil"),
        Expected("claim", officer, "appeal", case.id),
    )


def take_next(env: Env) -> Action:
    officer, case = env.staff.create("admin_dinsos"), env.cases.make()
    client = env.sign_in(officer)
    return (
        lambda: post(client, "/staf/ambil-berikutnya"),
        Expected("claim", officer, "appeal", case.id),
    )


def ask_field_check(env: Env) -> Action:
    officer = env.staff.create("verifikator")
    case = env.cases.make(status=S.VERIFIKASI, assigned_to=officer.id)
    client = env.sign_in(officer)
    data = {"desa": case.desa, "instructions": "Check who lives in the house now."}
    return (
        lambda: post(client, f"/staf/kasus/{case.id}/verval", data),
        Expected("request_field_check", officer, "appeal", case.id),
    )


def record_field_check(env: Env) -> Action:
    holder, officer = (
        env.staff.create("verifikator", enrol=False),
        env.staff.create("operator_desa"),
    )
    case = env.cases.make(status=S.VERIFIKASI, assigned_to=holder.id)
    check = env.cases.field_check(case, holder.id)
    client = env.sign_in(officer)
    data = {"outcome": "not_confirmed", "finding": NOTE}
    return (
        lambda: post(client, f"/staf/verval/{check}", data),
        Expected("record_field_check", officer, "appeal", case.id),
    )


def decide(env: Env) -> Action:
    officer = env.staff.create("admin_dinsos")
    case = env.cases.make(status=S.VERIFIKASI, assigned_to=officer.id)
    client = env.sign_in(officer)
    return (
        lambda: post(client, f"/staf/kasus/{case.id}/putuskan", DECISION),
        Expected("decide", officer, "appeal", case.id),
    )


def logout_everywhere(env: Env) -> Action:
    officer = env.staff.create("operator_desa")
    client = env.sign_in(officer)
    return (
        lambda: post(client, "/staf/sesi/keluar-semua"),
        Expected("logout_everywhere", officer, "staff", officer.id),
    )


ACTIONS = [
    sign_in,
    failed_sign_in,
    view_case,
    view_photo,
    claim,
    take_next,
    ask_field_check,
    record_field_check,
    decide,
    logout_everywhere,
]


@pytest.fixture
def env(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> Env:
    return Env(app, staff, cases, sign_in)


@pytest.mark.parametrize("setup", ACTIONS, ids=[a.__name__ for a in ACTIONS])
def test_every_staff_action_writes_exactly_one_audit_row_naming_who_what_and_on_what(
    setup: Callable[[Env], Action], env: Env
) -> None:
    act, expected = setup(env)
    before = [e.id for e in audit(env.app)]
    act()
    new = [e for e in audit(env.app) if e.id not in before]
    assert [e.action for e in new] == [expected.action]
    [event] = new
    actor = expected.actor
    assert (event.staff_id, event.role, event.office_code) == (
        (actor.id, actor.role, actor.office_code) if actor else (None, None, None)
    )
    assert (event.target_type, event.target_id) == (expected.target_type, expected.target_id)
    assert event.ip_prefix == "127.0.0.0/24"  # coarse network only, never the full address
    assert event.at is not None


def test_failed_sign_in_for_an_unknown_e_mail_is_audited_without_a_target(env: Env) -> None:
    client = english(env.app.test_client())  # type: ignore[arg-type]
    data = {"email": "nobody@dinsos.example.go.id", "password": "x" * 14, "code": "123456"}
    client.post_form("/staf/masuk", data, status=400)
    [event] = audit(env.app)
    assert (event.action, event.staff_id, event.target_id) == ("login_failed", None, None)


def test_viewing_a_case_logs_the_access_to_the_household(env: Env) -> None:
    officer = env.staff.create("verifikator")
    about = env.cases.make(subject_kk_hmac="a" * 32)
    unknown = env.cases.make()  # about a household not in DTSEN: no household key
    client = env.sign_in(officer)
    get(client, f"/staf/kasus/{about.id}")
    get(client, f"/staf/kasus/{unknown.id}")
    with env.app.app_context():
        events = list(db.session.scalars(select(AccessEvent)))
    assert [(e.kk_hmac, e.channel, e.actor) for e in events] == [("a" * 32, "staff", "staff")]
    assert (events[0].actor_role, events[0].actor_office) == ("verifikator", "32.16")
    assert events[0].period == "2026Q3"


def test_refused_and_failed_actions_write_no_success_row_and_lose_no_earlier_row(
    env: Env,
) -> None:
    """A day of work, with refusals in between: rows only ever get appended."""
    me, other = env.staff.create("verifikator"), env.staff.create("verifikator")
    case = env.cases.make()
    mine, theirs = env.sign_in(me), env.sign_in(other)
    snapshots = []

    def snapshot() -> list[tuple]:
        rows = audit(env.app)
        return [
            (e.id, e.action, e.staff_id, e.target_id, e.before, e.after, e.reason) for e in rows
        ]

    steps = [
        lambda: post(mine, f"/staf/kasus/{case.id}/ambil"),
        lambda: post(theirs, f"/staf/kasus/{case.id}/putuskan", DECISION),  # not theirs
        lambda: post(mine, f"/staf/kasus/{case.id}/putuskan", {**DECISION, "note": ""}),  # 400
        lambda: post(mine, f"/staf/kasus/{case.id}/putuskan", DECISION),
        lambda: post(mine, f"/staf/kasus/{case.id}/putuskan", DECISION),  # decided already
        lambda: post(mine, "/staf/sesi/keluar-semua"),
    ]
    for step in steps:
        snapshots.append(snapshot())
        step()
    final = snapshot()
    for earlier in snapshots:
        assert final[: len(earlier)] == earlier
    actions = [row[1] for row in final]
    assert actions.count("claim") == 1
    assert actions.count("decide") == 1
    assert count(env.app, AuditEvent, AuditEvent.action == "logout_everywhere") == 1


PORTAL = Path(portal.__file__).parent
FORBIDDEN = [
    re.compile(r"(update|delete)\(\s*AuditEvent\b"),
    re.compile(r"AuditEvent\b[^\n]*\)\s*\.\s*(update|delete)\("),
    re.compile(r"\b(UPDATE|DELETE\s+FROM|TRUNCATE)\s+(TABLE\s+)?audit_events\b", re.I),
    re.compile(r"\.delete\([^)\n]*(audit|\bevent\b)[^)\n]*\)", re.I),
]


def test_no_code_path_updates_or_deletes_audit_rows() -> None:
    sources = sorted(PORTAL.rglob("*.py"))
    assert len(sources) > 20
    found = [
        f"{path.relative_to(PORTAL)}:{text[: m.start()].count(chr(10)) + 1}: {m.group(0)}"
        for path in sources
        for text in [path.read_text(encoding="utf-8")]
        for pattern in FORBIDDEN
        for m in pattern.finditer(text)
    ]
    assert found == []
    # audit rows are only ever created by record(), inside the service's transaction
    construct = re.compile(r"(?<!class )\bAuditEvent\(")
    writers = [p for p in sources if construct.search(p.read_text(encoding="utf-8"))]
    assert [p.relative_to(PORTAL).as_posix() for p in writers] == ["audit/service.py"]


def test_a_refused_staff_request_is_audited_with_its_path(env: Env) -> None:
    from tests.review.conftest import KOTA_BEKASI_DESA

    officer = env.staff.create("verifikator")
    elsewhere = env.cases.make(desa=KOTA_BEKASI_DESA)  # another kabupaten/kota
    client = env.sign_in(officer)

    assert get(client, f"/staf/kasus/{elsewhere.id}").status == 404
    assert get(client, "/staf/verval").status == 403  # an operator's page

    refused = audit(env.app, "refused")
    assert [(e.staff_id, e.reason) for e in refused] == [
        (officer.id, f"404 GET /staf/kasus/{elsewhere.id}"),
        (officer.id, "403 GET /staf/verval"),
    ]


def test_the_operators_field_check_page_is_audited_and_logged_for_the_household(
    env: Env,
) -> None:
    verifikator, operator = env.staff.create("verifikator"), env.staff.create("operator_desa")
    case = env.cases.make(subject_kk_hmac="b" * 32)
    check = env.cases.field_check(case, verifikator.id)
    client = env.sign_in(operator)

    assert get(client, f"/staf/verval/{check}").status == 200

    [viewed] = audit(env.app, "view_field_check")
    assert (viewed.staff_id, viewed.target_type, viewed.target_id) == (
        operator.id,
        "field_check",
        check,
    )
    with env.app.app_context():
        [read] = list(db.session.scalars(select(AccessEvent)))
    assert (read.kk_hmac, read.actor_role) == ("b" * 32, "operator_desa")
