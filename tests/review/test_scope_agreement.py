"""The scope answered in Python agrees with the scope answered in SQL, for every role and place.

``scoped()`` filters the queries; ``in_scope()`` and ``desa_in_scope()`` answer the same
question about one case or one household's desa, where a service checks a case it was given
(the case a duplicate points to, the case an officer matches) or a household a case names.
Written against the mutants of portal/review/permissions.py that survived the role x action
x scope matrix (docs/mutation.md): that matrix reaches these checks only through a case that
scoped() had already found, so a wrong answer for another area could not show.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.appeals.models import Appeal
from portal.appeals.states import AppealStatus
from portal.auth.models import StaffUser
from portal.review import permissions
from portal.review import service as review_service
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client
from tests.review.conftest import DECISION, DESA, CaseFactory, get
from tests.review.test_scope import PLACES, SEES, households, kk_hmac  # noqa: F401 (fixture)

ROLES = tuple(SEES)


@pytest.mark.parametrize("role", ROLES)
def test_in_scope_agrees_with_scoped_for_every_place(
    app: Flask, role: str, staff: StaffFactory, cases: CaseFactory
) -> None:
    officer = staff.create(role)
    made = {place: cases.make(desa=desa) for place, desa in PLACES.items()}
    with app.app_context():
        user = db.session.get(StaffUser, officer.id)
        assert user is not None
        listed = set(db.session.scalars(permissions.scoped(select(Appeal.id), user)))
        for place, case in made.items():
            appeal = db.session.get(Appeal, case.id)
            assert appeal is not None
            expected = place in SEES[role]
            assert permissions.in_scope(user, appeal) is expected, place
            assert (case.id in listed) is expected, place
            assert permissions.desa_in_scope(user, PLACES[place]) is expected, place


@pytest.mark.parametrize("role", ROLES)
def test_only_an_admin_dinsos_makes_exports_and_keeps_their_own_contact(
    app: Flask, role: str, staff: StaffFactory
) -> None:
    officer = staff.create(role)
    with app.app_context():
        user = db.session.get(StaffUser, officer.id)
        assert user is not None
        assert permissions.can_export(user) is (role == "admin_dinsos")
        assert permissions.can_edit_contact(user, "32.16") is (role == "admin_dinsos")
        assert permissions.can_edit_contact(user, "32.75") is False


def test_a_decision_cannot_name_a_duplicate_in_another_area(
    app: Flask, staff: StaffFactory, cases: CaseFactory
) -> None:
    """The page only finds tickets in scope; the service refuses one from elsewhere too,
    and takes the same decision naming a case of the officer's own area."""
    me = staff.create("verifikator")
    case = cases.make(desa=DESA, status=AppealStatus.VERIFIKASI, assigned_to=me.id)
    elsewhere = cases.make(desa=PLACES["Kota Bekasi"])
    nearby = cases.make(desa=PLACES["another desa of Kabupaten Bekasi"])
    with app.app_context():
        user = db.session.get(StaffUser, me.id)
        appeal = db.session.get(Appeal, case.id)
        assert user is not None
        assert appeal is not None

        def duplicate_of(other: int) -> Appeal:
            found = db.session.get(Appeal, other)
            assert found is not None
            return review_service.decide(
                appeal,
                user,
                AppealStatus.DUPLIKAT,
                DECISION["reason"],
                DECISION["note"],
                duplicate_of=found,
            )

        with pytest.raises(review_service.BadDecision):
            duplicate_of(elsewhere.id)
        assert duplicate_of(nearby.id).duplicate_of_id == nearby.id
    assert cases.get(case).status == AppealStatus.DUPLIKAT.value


@pytest.mark.parametrize("role", ["operator_desa", "verifikator", "admin_dinsos"])
def test_a_household_in_the_officers_area_is_shown_to_every_role_of_that_area(
    app: Flask,
    role: str,
    staff: StaffFactory,
    sign_in: Callable[[Officer], Client],
    cases: CaseFactory,
    households,  # noqa: F811 (the fixture of test_scope)
) -> None:
    here, _away = households
    case = cases.make(desa=DESA, subject_kk_hmac=kk_hmac(app, here.no_kk))
    page = get(sign_in(staff.create(role)), f"/staf/kasus/{case.id}")
    assert page.status == 200
    assert "in another area" not in page
    assert [m.nik in page.text for m in here.members] == [True, True, True]


# the other tables scoped() filters: which of them each role finds, per place
EXPORTS_SEEN = {
    "operator_desa": set(),
    "verifikator": set(),
    "admin_dinsos": {"own desa", "another desa of Kabupaten Bekasi"},
    "pusat": set(PLACES),
}
FIELD_CHECKS_SEEN = {
    "operator_desa": {"own desa"},
    "verifikator": set(),
    "admin_dinsos": set(),
    "pusat": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_exports_and_field_checks_are_scoped_by_the_same_function(
    app: Flask, role: str, staff: StaffFactory, cases: CaseFactory
) -> None:
    """An export file belongs to its kabupaten/kota and a field check to its desa: scoped()
    finds them for the roles and places that may see them, and nothing else."""
    from portal.review.models import Export, FieldCheck

    officer = staff.create(role)
    asker = staff.create("verifikator")
    made = {place: cases.make(desa=desa) for place, desa in PLACES.items()}
    with app.app_context():
        exports, checks = {}, {}
        for place, desa in PLACES.items():
            export = Export(
                kabupaten_code=desa[:5], created_by_id=asker.id, case_count=0, sha256="0" * 64
            )
            check = FieldCheck(
                appeal_id=made[place].id,
                kode_desa=desa,
                requested_by_id=asker.id,
                instructions="Periksa rumah ini.",
            )
            db.session.add_all([export, check])
            db.session.flush()
            exports[export.id], checks[check.id] = place, place
        db.session.commit()
        user = db.session.get(StaffUser, officer.id)
        assert user is not None
        found = db.session.scalars(permissions.scoped(select(Export.id), user, permissions.EXPORTS))
        assert {exports[i] for i in found} == EXPORTS_SEEN[role]
        found = db.session.scalars(
            permissions.scoped(select(FieldCheck.id), user, permissions.FIELD_CHECKS)
        )
        assert {checks[i] for i in found} == FIELD_CHECKS_SEEN[role]
