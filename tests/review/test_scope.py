"""Who may see and do what: every role against every action, on a case in and out of scope.

The table is the product rule (DOMAIN.md "Staff roles"): a desa operator sees cases of their
desa and records field checks; a verifikator and an admin_dinsos work the cases of their
kabupaten/kota; pusat reads everything and decides nothing. A case out of scope must look
exactly like a case that does not exist: absent from lists and counts, 404 by URL, never 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from portal.appeals.states import AppealStatus
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client, Page
from tests.review.conftest import (
    DECISION,
    DESA,
    KOTA_BEKASI_DESA,
    NOTE,
    OTHER_DESA,
    Case,
    CaseFactory,
    follow,
    get,
    notices,
    post,
)

S = AppealStatus
DECIDERS = ("verifikator", "admin_dinsos")
PLACES = {
    "own desa": DESA,
    "another desa of Kabupaten Bekasi": OTHER_DESA,
    "Kota Bekasi": KOTA_BEKASI_DESA,
}
SEES = {
    "operator_desa": {"own desa"},
    "verifikator": {"own desa", "another desa of Kabupaten Bekasi"},
    "admin_dinsos": {"own desa", "another desa of Kabupaten Bekasi"},
    "pusat": set(PLACES),
}
ACTIONS = (
    "see in queue",
    "open case page",
    "view photo",
    "claim",
    "ask field check",
    "decide",
    "record field check",
)
# What each role gets on a case IN its scope. Outcomes:
#   listed / shown: visible;  claimed, check asked, decided, recorded: done;
#   forbidden: 403, nothing changes;  refused: back to the case with a message, nothing changes
IN_SCOPE = {
    "operator_desa": ("listed", "shown", "shown", "forbidden", "forbidden", "refused", "recorded"),
    "verifikator": ("listed", "shown", "shown", "claimed", "check asked", "decided", "forbidden"),
    "admin_dinsos": ("listed", "shown", "shown", "claimed", "check asked", "decided", "forbidden"),
    "pusat": ("listed", "shown", "shown", "forbidden", "refused", "refused", "forbidden"),
}


def out_of_scope(role: str, action: str) -> str:
    if action == "see in queue":
        return "absent"
    if action == "record field check" and role != "operator_desa":
        # only desa operators may ever record: 403 for any check id, so nothing is revealed
        return "forbidden"
    return "not found"


# --- performing one action on one case --------------------------------------------------------


def _refused_or(client: Client, page: Page, done: bool, outcome: str) -> str:
    if done:
        return outcome
    return "refused" if notices(follow(client, page), "error") else "refused without a message"


def _status(page: Page) -> str:
    return {403: "forbidden", 404: "not found"}.get(page.status, f"status {page.status}")


def see_in_queue(client: Client, case: Case, cases: CaseFactory, _ids: dict) -> str:
    page = get(client, "/staf/?status=")
    assert page.status == 200
    return "listed" if case.shown in page.texts("table.table--queue td a") else "absent"


def open_case(client: Client, case: Case, cases: CaseFactory, _ids: dict) -> str:
    page = get(client, f"/staf/kasus/{case.id}")
    return "shown" if page.status == 200 and case.shown in page.h1 else _status(page)


def view_photo(client: Client, case: Case, cases: CaseFactory, ids: dict) -> str:
    response = client.get(f"/staf/kasus/{case.id}/foto/{ids['photo']}")
    response.close()  # a file response: release the file handle
    if response.status_code == 200:
        assert response.mimetype == "image/jpeg"
        return "shown"
    return _status(Page(response))


def claim(client: Client, case: Case, cases: CaseFactory, ids: dict) -> str:
    page = post(client, f"/staf/kasus/{case.id}/ambil")
    if page.status != 302:
        return _status(page)
    return _refused_or(client, page, cases.get(case).assigned_to_id == ids["me"], "claimed")


def ask_field_check(client: Client, case: Case, cases: CaseFactory, ids: dict) -> str:
    data = {"desa": case.desa, "instructions": "Check whether the family still lives there."}
    page = post(client, f"/staf/kasus/{case.id}/verval", data)
    if page.status != 302:
        return _status(page)
    return _refused_or(client, page, bool(cases.checks(case)), "check asked")


def decide(client: Client, case: Case, cases: CaseFactory, ids: dict) -> str:
    page = post(client, f"/staf/kasus/{case.id}/putuskan", DECISION)
    if page.status != 302:
        return _status(page)
    return _refused_or(client, page, cases.get(case).status == S.DITOLAK.value, "decided")


def record_field_check(client: Client, case: Case, cases: CaseFactory, ids: dict) -> str:
    data = {"outcome": "confirmed", "finding": NOTE}
    page = post(client, f"/staf/verval/{ids['check']}", data)
    if page.status != 302:
        return _status(page)
    return "recorded" if cases.checks(case)[0].done_at else "not recorded"


DO: dict[str, Callable[[Client, Case, CaseFactory, dict], str]] = dict(
    zip(
        ACTIONS,
        (see_in_queue, open_case, view_photo, claim, ask_field_check, decide, record_field_check),
        strict=True,
    )
)


def prepare(
    action: str, role: str, officer: Officer, place: str, staff: StaffFactory, cases: CaseFactory
) -> tuple[Case, dict]:
    """A case in PLACE in the state the action needs: waiting for a claim, or in review held by
    the acting officer (a decider in scope) or by a verifikator of the case's area."""
    desa = PLACES[place]
    mine = role in DECIDERS and place in SEES[role]
    holder = officer.id if mine else staff.create("verifikator", [desa[:5]], enrol=False).id
    held = action in ("ask field check", "decide", "record field check")
    case = cases.make(
        desa=desa,
        status=S.VERIFIKASI if held else S.DITERIMA,
        assigned_to=holder if held else None,
    )
    ids = {"me": officer.id, "photo": cases.photo(case)}
    if action == "record field check":
        ids["check"] = cases.field_check(case, requested_by=holder)
    return case, ids


TABLE = [
    pytest.param(role, action, scope, id=f"{role}-{action}-{scope}".replace(" ", "_"))
    for role in IN_SCOPE
    for action in ACTIONS
    for scope in ("in scope", "out of scope")
    if not (role == "pusat" and scope == "out of scope")  # pusat is national
]


@pytest.mark.parametrize(("role", "action", "scope"), TABLE)
def test_each_role_may_do_only_what_the_table_allows_and_never_sees_outside_its_scope(
    role: str,
    action: str,
    scope: str,
    staff: StaffFactory,
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    officer = staff.create(role)
    client = sign_in(officer)
    expected = (
        IN_SCOPE[role][ACTIONS.index(action)] if scope == "in scope" else out_of_scope(role, action)
    )
    places = [p for p in PLACES if (p in SEES[role]) == (scope == "in scope")]
    assert places
    for place in places:
        case, ids = prepare(action, role, officer, place, staff, cases)
        before = state(cases, case)
        outcome = DO[action](client, case, cases, ids)
        assert outcome == expected, f"{role} / {action} / case in {place}"
        if outcome in ("forbidden", "not found", "refused", "absent", "listed", "shown"):
            assert state(cases, case) == before, f"{role} / {action} / {place}: a change"


def state(cases: CaseFactory, case: Case) -> tuple:
    appeal = cases.get(case)
    checks = [(c.id, c.done_at) for c in cases.checks(case)]
    return appeal.status, appeal.assigned_to_id, appeal.decided_at, cases.events(case), checks


def _counts(page: Page) -> dict[str, int]:
    found = (re.fullmatch(r"(.+): (\d+)", text) for text in page.texts("ul.counts li"))
    return {m[1]: int(m[2]) for m in found if m}


@pytest.mark.parametrize("role", list(SEES))
def test_queue_lists_and_counts_only_cases_in_scope(
    role: str, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    late = -timedelta(days=2)
    made = {place: cases.make(desa=desa, due_in=late) for place, desa in PLACES.items()}
    client = sign_in(staff.create(role))
    page = get(client, "/staf/?status=")
    listed = set(page.texts("table.table--queue td a"))
    assert listed == {made[p].shown for p in SEES[role]}
    assert _counts(page)["Received"] == len(SEES[role])
    assert sum(_counts(page).values()) == len(SEES[role])
    overdue = f"{len(SEES[role])} case{'s are' if len(SEES[role]) > 1 else ' is'} overdue."
    assert overdue in page.texts(".notice--error strong")


def test_a_case_out_of_scope_answers_exactly_like_a_case_that_does_not_exist(
    staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    elsewhere = cases.make(desa=KOTA_BEKASI_DESA)
    photo = cases.photo(elsewhere)
    client = sign_in(staff.create("verifikator"))
    missing = elsewhere.id + 1000
    for suffix in ("", f"/foto/{photo}", "/putuskan"):
        hidden, absent = (get(client, f"/staf/kasus/{n}{suffix}") for n in (elsewhere.id, missing))
        assert hidden.status == absent.status == 404
        assert hidden.h1 == absent.h1 == "Page not found"


def test_a_photo_of_another_case_cannot_be_opened_through_a_case_in_scope(
    staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    mine, elsewhere = cases.make(desa=DESA), cases.make(desa=KOTA_BEKASI_DESA)
    foreign_photo = cases.photo(elsewhere)
    client = sign_in(staff.create("verifikator"))
    response = client.get(f"/staf/kasus/{mine.id}/foto/{foreign_photo}")
    response.close()
    assert response.status_code == 404


def test_an_operator_lists_and_opens_only_the_field_checks_of_their_desa(
    staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    verifikator = staff.create("verifikator", enrol=False)
    own, other = cases.make(desa=DESA), cases.make(desa=OTHER_DESA)
    own_check = cases.field_check(own, verifikator.id)
    other_check = cases.field_check(other, verifikator.id)
    client = sign_in(staff.create("operator_desa"))
    page = get(client, "/staf/verval")
    assert page.texts(".check-list a") == [f"{own.shown} · INC-MAMPU"]
    assert get(client, f"/staf/verval/{own_check}").status == 200
    assert get(client, f"/staf/verval/{other_check}").status == 404


@pytest.mark.parametrize("number", [0, 2**31, 2**63, 10**20])
def test_a_guessed_id_of_any_size_is_simply_not_found(
    number: int, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    case = cases.make()
    officer, operator = sign_in(staff.create("verifikator")), sign_in(staff.create("operator_desa"))
    for client, url in [
        (officer, f"/staf/kasus/{number}"),
        (officer, f"/staf/kasus/{case.id}/foto/{number}"),
        (officer, f"/staf/kasus/{number}/putuskan"),
        (operator, f"/staf/verval/{number}"),
    ]:
        assert get(client, url).status == 404, url
    assert post(officer, f"/staf/kasus/{number}/ambil").status == 404


# --- household data is scoped like cases -------------------------------------------------------


@pytest.fixture
def households(app, tmp_path):  # type: ignore[no-untyped-def]
    """Two published households: one in the operator's desa, one in Kota Bekasi."""
    import random

    from portal.dataimport.demo import Numbers
    from tests.fixtures.factories import Factory

    factory = Factory(app, tmp_path, Numbers(random.Random(23)))
    here = factory.household(desa=DESA, size=3)
    away = factory.household(desa=KOTA_BEKASI_DESA, size=2)
    factory.publish("2026Q3", [here, away])
    return here, away


def kk_hmac(app, no_kk: str) -> str:  # type: ignore[no-untyped-def]
    from portal.dataimport.queries import pseudonym

    with app.app_context():
        return pseudonym(no_kk, "kk")


@pytest.mark.parametrize("role", ["operator_desa", "verifikator", "admin_dinsos"])
def test_a_case_in_scope_does_not_open_a_household_of_another_area(
    app, role: str, staff: StaffFactory, sign_in, cases: CaseFactory, households
) -> None:
    """A case of the officer's area naming a household that DTSEN has elsewhere (an usulan can
    name any No. KK) shows that it exists elsewhere, and nothing of it."""
    here, away = households
    case = cases.make(desa=DESA, subject_kk_hmac=kk_hmac(app, away.no_kk))
    page = get(sign_in(staff.create(role)), f"/staf/kasus/{case.id}")

    assert page.status == 200
    assert "This household is in DTSEN in another area" in page
    for member in away.members:
        assert member.nik not in page.text
        assert member.nama not in page.text.upper()
    assert away.no_kk not in page.text


def test_pusat_sees_the_household_wherever_it_is(
    app, staff: StaffFactory, sign_in, cases: CaseFactory, households
) -> None:
    _here, away = households
    case = cases.make(desa=DESA, subject_kk_hmac=kk_hmac(app, away.no_kk))
    page = get(sign_in(staff.create("pusat")), f"/staf/kasus/{case.id}")
    assert away.members[0].nik in page.text
    assert "in another area" not in page


def test_a_household_in_the_officers_area_is_shown(
    app, staff: StaffFactory, sign_in, cases: CaseFactory, households
) -> None:
    here, _away = households
    case = cases.make(desa=DESA, subject_kk_hmac=kk_hmac(app, here.no_kk))
    page = get(sign_in(staff.create("operator_desa")), f"/staf/kasus/{case.id}")
    assert [m.nik in page.text for m in here.members] == [True, True, True]
