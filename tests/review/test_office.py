"""Office work on many cases: field checks for several cases of one desa (/staf/verval-massal)
and moving an officer's open cases to another verifikator (/staf/alihkan).

Every refusal is checked with the mutation that would leak: another desa's case slipped into
the list, a case of another kabupaten/kota, a case held by someone else, the wrong role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from portal.appeals.states import AppealStatus
from portal.review.models import FieldCheck
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client
from tests.review.conftest import (
    DESA,
    KOTA_BEKASI_DESA,
    OTHER_DESA,
    CaseFactory,
    audit,
    count,
    errors,
    follow,
    get,
    notices,
    post,
)

S = AppealStatus
BULK = "/staf/verval-massal"
MOVE = "/staf/alihkan"
CHECK = "Check who lives in the house and whether the car is theirs."
SignIn = Callable[[Officer], Client]


# --- bulk field checks ----------------------------------------------------------------------


def test_bulk_verval_lists_the_desa_cases_one_may_check_and_sends_one_check_per_case(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    officer = staff.create("verifikator")
    colleague = staff.create("verifikator")
    mine = cases.make(status=S.VERIFIKASI, assigned_to=officer.id)
    free = cases.make(status=S.DITERIMA)
    theirs = cases.make(status=S.VERIFIKASI, assigned_to=colleague.id)
    elsewhere = cases.make(desa=OTHER_DESA, status=S.DITERIMA)
    decided = cases.make(status=S.DITOLAK, assigned_to=officer.id, decided_by=officer.id)
    browser = sign_in(officer)

    page = get(browser, f"{BULK}?desa={DESA}")
    assert page.status == 200
    offered = {int(str(box["value"])) for box in page.soup.select("input[name=case]")}
    assert offered == {mine.id, free.id}  # not a colleague's, another desa's nor a decided one
    assert {theirs.id, elsewhere.id, decided.id}.isdisjoint(offered)

    sent = post(
        browser,
        BULK,
        {"desa": DESA, "case": [str(mine.id), str(free.id)], "instructions": CHECK},
    )
    assert sent.status == 302
    assert "2 field checks were sent" in " ".join(notices(follow(browser, sent)))
    for case in (mine, free):
        [check] = cases.checks(case)
        assert check.kode_desa == DESA
        assert check.requested_by_id == officer.id
        assert check.instructions == CHECK
        appeal = cases.get(case)
        assert appeal.assigned_to_id == officer.id  # the free one was taken with the request
        assert appeal.status == S.VERIFIKASI.value
    rows = audit(app, "request_field_check")
    assert sorted(r.target_id for r in rows) == sorted([mine.id, free.id])  # one per case
    assert [r.target_id for r in audit(app, "claim")] == [free.id]
    # a case with an open check is not offered again
    again = get(browser, f"{BULK}?desa={DESA}")
    assert not again.soup.select("input[name=case]")


@pytest.mark.parametrize("intruder", ["other_desa", "other_kabupaten", "colleague", "decided"])
def test_bulk_verval_refuses_the_whole_request_when_one_case_is_not_offered(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: SignIn, intruder: str
) -> None:
    officer = staff.create("verifikator")
    colleague = staff.create("verifikator")
    mine = cases.make(status=S.VERIFIKASI, assigned_to=officer.id)
    bad = {
        "other_desa": lambda: cases.make(
            desa=OTHER_DESA, status=S.VERIFIKASI, assigned_to=officer.id
        ),
        "other_kabupaten": lambda: cases.make(desa=KOTA_BEKASI_DESA, status=S.DITERIMA),
        "colleague": lambda: cases.make(status=S.VERIFIKASI, assigned_to=colleague.id),
        "decided": lambda: cases.make(status=S.DITOLAK, decided_by=colleague.id),
    }[intruder]()
    browser = sign_in(officer)

    page = post(
        browser, BULK, {"desa": DESA, "case": [str(mine.id), str(bad.id)], "instructions": CHECK}
    )
    assert page.status == 400
    assert any("Nothing was sent" in e for e in errors(page))
    assert count(app, FieldCheck) == 0  # not even the good one
    assert cases.get(bad).assigned_to_id in (None, colleague.id, officer.id)
    if intruder == "other_kabupaten":
        assert cases.get(bad).assigned_to_id is None  # never claimed across the border


def test_bulk_verval_refuses_a_desa_of_another_kabupaten_and_other_roles(
    staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    officer = sign_in(staff.create("verifikator"))
    assert get(officer, f"{BULK}?desa={KOTA_BEKASI_DESA}").status == 404
    theirs = cases.make(desa=KOTA_BEKASI_DESA, status=S.DITERIMA)
    sent = post(
        officer,
        BULK,
        {"desa": KOTA_BEKASI_DESA, "case": [str(theirs.id)], "instructions": CHECK},
    )
    assert sent.status == 404
    for role in ("operator_desa", "pusat"):
        other = sign_in(staff.create(role))
        assert get(other, BULK).status == 403
        assert post(other, BULK, {"desa": DESA, "instructions": CHECK}).status == 403


def test_bulk_verval_bad_input_is_a_clear_message_never_a_500(
    staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    officer = staff.create("verifikator")
    mine = cases.make(status=S.VERIFIKASI, assigned_to=officer.id)
    browser = sign_in(officer)
    none_chosen = post(browser, BULK, {"desa": DESA, "instructions": CHECK})
    assert none_chosen.status == 400
    assert errors(none_chosen) == ["Choose at least one case."]
    short = post(browser, BULK, {"desa": DESA, "case": str(mine.id), "instructions": "look"})
    assert short.status == 400
    assert "10 to 2000 characters" in errors(short)[0]
    junk = post(browser, BULK, {"desa": DESA, "case": "1 OR 1=1", "instructions": CHECK})
    assert junk.status == 400


# --- reassignment ---------------------------------------------------------------------------


def test_admin_moves_selected_or_all_open_cases_of_an_officer_audited_per_case(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    admin = staff.create("admin_dinsos")
    away = staff.create("verifikator")
    stays = staff.create("verifikator")
    first = cases.make(status=S.VERIFIKASI, assigned_to=away.id)
    second = cases.make(status=S.VERIFIKASI, assigned_to=away.id, desa=OTHER_DESA)
    third = cases.make(status=S.DITERIMA, assigned_to=away.id)
    done = cases.make(status=S.DITOLAK, assigned_to=away.id, decided_by=away.id)
    browser = sign_in(admin)

    page = get(browser, f"{MOVE}?dari={away.id}")
    assert page.status == 200
    listed = {int(str(box["value"])) for box in page.soup.select("input[name=case]")}
    assert listed == {first.id, second.id, third.id}  # open cases only
    choices = {str(o["value"]) for o in page.soup.select("select[name=ke] option") if o["value"]}
    assert choices == {str(stays.id)}  # another verifikator: not the admin, not the same one

    moved = post(browser, MOVE, {"dari": away.id, "ke": stays.id, "case": str(first.id)})
    assert moved.status == 302
    assert "1 case was moved" in " ".join(notices(follow(browser, moved)))
    assert cases.get(first).assigned_to_id == stays.id
    assert cases.get(second).assigned_to_id == away.id

    rest = post(browser, MOVE, {"dari": away.id, "ke": stays.id, "semua": "y"})
    assert rest.status == 302
    assert {cases.get(c).assigned_to_id for c in (first, second, third)} == {stays.id}
    assert cases.get(done).assigned_to_id == away.id  # a decided case stays with its decider
    rows = audit(app, "reassign")
    assert sorted(r.target_id for r in rows) == sorted([first.id, second.id, third.id])
    assert all(r.before == {"assigned_to_id": away.id} for r in rows)
    assert all(r.after == {"assigned_to_id": stays.id} for r in rows)


@pytest.mark.parametrize("role", ["verifikator", "operator_desa", "pusat"])
def test_only_an_admin_dinsos_may_reassign(
    staff: StaffFactory, cases: CaseFactory, sign_in: SignIn, role: str
) -> None:
    away = staff.create("verifikator")
    stays = staff.create("verifikator")
    case = cases.make(status=S.VERIFIKASI, assigned_to=away.id)
    browser = sign_in(staff.create(role))
    assert get(browser, MOVE).status == 403
    assert post(browser, MOVE, {"dari": away.id, "ke": stays.id, "semua": "y"}).status == 403
    assert cases.get(case).assigned_to_id == away.id


def test_reassignment_stays_inside_the_kabupaten(
    staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    admin = sign_in(staff.create("admin_dinsos"))
    away = staff.create("verifikator")
    kota = staff.create("verifikator", ["32.75"])
    kota_away = staff.create("verifikator", ["32.75"])
    ours = cases.make(status=S.VERIFIKASI, assigned_to=away.id)
    theirs = cases.make(desa=KOTA_BEKASI_DESA, status=S.VERIFIKASI, assigned_to=kota_away.id)
    # to an officer of Kota Bekasi: refused as if unknown
    assert post(admin, MOVE, {"dari": away.id, "ke": kota.id, "semua": "y"}).status == 404
    assert cases.get(ours).assigned_to_id == away.id
    # from an officer of Kota Bekasi: their list and their cases are not found
    assert get(admin, f"{MOVE}?dari={kota_away.id}").status == 404
    stays = staff.create("verifikator")
    assert post(admin, MOVE, {"dari": kota_away.id, "ke": stays.id, "semua": "y"}).status == 404
    assert cases.get(theirs).assigned_to_id == kota_away.id


def test_reassignment_refuses_a_case_not_held_by_the_officer_and_a_contest_of_the_target(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    admin = sign_in(staff.create("admin_dinsos"))
    away = staff.create("verifikator")
    stays = staff.create("verifikator")
    other = staff.create("verifikator")
    held = cases.make(status=S.VERIFIKASI, assigned_to=away.id)
    not_theirs = cases.make(status=S.VERIFIKASI, assigned_to=other.id)
    page = post(
        admin,
        MOVE,
        {"dari": away.id, "ke": stays.id, "case": [str(held.id), str(not_theirs.id)]},
    )
    assert "Nothing was moved" in " ".join(notices(follow(admin, page)))
    assert cases.get(held).assigned_to_id == away.id
    assert cases.get(not_theirs).assigned_to_id == other.id
    # a contest of a decision STAYS made cannot go to STAYS
    original = cases.make(status=S.DITOLAK, decided_by=stays.id)
    contest = cases.make(status=S.VERIFIKASI, assigned_to=away.id, contests=original)
    refused = post(admin, MOVE, {"dari": away.id, "ke": stays.id, "case": str(contest.id)})
    assert "Nothing was moved" in " ".join(notices(follow(admin, refused)))
    assert cases.get(contest).assigned_to_id == away.id
    assert audit(app, "reassign") == []
    # to an admin_dinsos (not a verifikator) or to the same officer: refused
    other_admin = staff.create("admin_dinsos")
    assert post(admin, MOVE, {"dari": away.id, "ke": other_admin.id, "semua": "y"}).status == 404
    assert post(admin, MOVE, {"dari": away.id, "ke": away.id, "semua": "y"}).status == 404
    assert post(admin, MOVE, {"dari": "x", "ke": stays.id}).status == 400


def test_the_services_refuse_the_wrong_role_even_without_the_views_guard(
    app: Flask, staff: StaffFactory, cases: CaseFactory
) -> None:
    """The role check lives in office.py too, not only in the views' decorators."""
    from portal import db
    from portal.auth.models import StaffUser
    from portal.review import office

    verifikator = staff.create("verifikator")
    away = staff.create("verifikator")
    stays = staff.create("verifikator")
    operator = staff.create("operator_desa")
    case = cases.make(status=S.VERIFIKASI, assigned_to=away.id)
    with app.app_context():
        user = db.session.get(StaffUser, verifikator.id)
        assert user is not None
        with pytest.raises(office.NotAllowed):
            office.reassign(user, away.id, stays.id, None)
        assert office.officers(user) == []
        assert office.open_cases_of(user, away.id) is None
        desa_operator = db.session.get(StaffUser, operator.id)
        assert desa_operator is not None
        with pytest.raises(office.NotAllowed):
            office.bulk_field_checks(desa_operator, DESA, [case.id], CHECK)
        assert office.bulk_candidates(desa_operator, DESA) == []
    assert cases.get(case).assigned_to_id == away.id
