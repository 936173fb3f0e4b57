"""Staff pages name a desa, never only its code: the verval panel and the household block of
the case page, the desa mismatch of an usulan or a report by name, the desa office of an
assisted filing, and the operator's task list; from the per-process region cache, so the
task list costs the same queries for two tasks or ten."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from portal import db
from portal.appeals.models import AppealAssist
from portal.appeals.states import AppealStatus
from portal.dataimport.queries import pseudonym
from tests.fixtures.factories import Factory, make_appeal
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client
from tests.review.conftest import BABELAN_DESA, DESA, OTHER_DESA, Case, CaseFactory, get
from tests.review.test_queue_rows import counting

S = AppealStatus
SAGARA = "Sagara Makmur, Tarumajaya, Kabupaten Bekasi"  # DESA
SEGARAJAYA = "Segarajaya, Tarumajaya, Kabupaten Bekasi"  # OTHER_DESA
BUNIBAKTI = "Bunibakti, Babelan, Kabupaten Bekasi"  # BABELAN_DESA


def test_the_case_page_names_the_desa_of_its_field_checks_and_of_the_household(
    app: Flask,
    factory: Factory,
    staff: StaffFactory,
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    house = factory.household(desa=DESA)
    factory.publish("2026Q3", [house])
    with app.app_context():
        kk = pseudonym(house.no_kk, "kk")
    me = staff.create("verifikator")
    case = cases.make(status=S.VERIFIKASI, assigned_to=me.id, subject_kk_hmac=kk)
    cases.field_check(case, me.id)
    cases.field_check(case, me.id, desa=OTHER_DESA)

    page = get(sign_in(me), f"/staf/kasus/{case.id}")

    assert page.status == 200
    [household] = page.texts(".household > p")
    assert household.endswith(f"· {SAGARA}")
    asked = [p.split(" · ")[0] for p in page.texts(".field-check > p:first-child")]
    assert asked == [SAGARA, SEGARAJAYA]
    shown = " ".join(page.texts(".household > p, .field-check"))
    for code in (DESA, OTHER_DESA):
        assert code not in shown


def test_the_desa_mismatch_of_an_usulan_is_told_with_names(
    app: Flask, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    """The filer chose Bunibakti for a No. KK that DTSEN has in Sagara Makmur."""
    me = staff.create("verifikator")
    with app.app_context():
        appeal = make_appeal(
            reason_code="EXC-TIDAK-TERDATA",
            status=S.VERIFIKASI,
            region=DESA,
            subject_is_filer_household=True,
            assigned_to_id=me.id,
            details={
                "household": {"no_kk": "3216012005190001", "alamat": "KP. SAGARA", "desa": DESA},
                "programs": [],
                "conditions": {},
                "desa_mismatch": {"chosen": BABELAN_DESA, "dtsen": DESA},
            },
        )
        db.session.add(appeal)
        db.session.commit()
        case_id = appeal.id

    page = get(sign_in(me), f"/staf/kasus/{case_id}")

    assert page.status == 200
    [flag] = page.texts(".flag")
    assert flag == (
        f"The filer chose desa {BUNIBAKTI}, but DTSEN has this No. KK in {SAGARA}: "
        f"the case came to the staff of {SAGARA}."
    )


def test_the_desa_office_of_an_assisted_filing_is_named(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    me = staff.create("verifikator")
    operator = staff.create("operator_desa", [OTHER_DESA])
    case = cases.make(status=S.VERIFIKASI, assigned_to=me.id)
    with app.app_context():
        appeal = cases.get(case)
        db.session.add(appeal)
        appeal.channel = "assisted"
        db.session.add(
            AppealAssist(
                appeal_id=case.id,
                staff_id=operator.id,
                kode_desa=OTHER_DESA,
                consent_version="1",
                consent_at=db.utcnow(),
            )
        )
        db.session.commit()

    page = get(sign_in(me), f"/staf/kasus/{case.id}")

    [assisted] = page.texts(".assisted dd")
    assert f"at the desa office {SEGARAJAYA} on" in assisted


def test_the_operators_task_list_names_the_desa_at_the_same_cost_for_two_tasks_or_ten(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    verifikator = staff.create("verifikator")
    operator = sign_in(staff.create("operator_desa", [DESA, BABELAN_DESA]))

    def ask(desa: str) -> Case:
        case = cases.make(desa=desa, status=S.VERIFIKASI, assigned_to=verifikator.id)
        cases.field_check(case, verifikator.id)
        return case

    for desa in (DESA, BABELAN_DESA):
        ask(desa)
    get(operator, "/staf/verval")  # warm the region-name cache
    with counting(app) as few:
        page = get(operator, "/staf/verval")
    tasks = page.texts(".check-list li")
    assert [t.split(" · ")[2] for t in tasks] == [SAGARA, BUNIBAKTI]
    assert DESA not in page.text
    assert BABELAN_DESA not in page.text

    for i in range(8):
        ask((DESA, BABELAN_DESA)[i % 2])
    get(operator, "/staf/verval")
    with counting(app) as many:
        assert len(get(operator, "/staf/verval").texts(".check-list li")) == 10
    assert len(many) == len(few), "a query per task"


def test_a_code_the_region_table_lacks_is_shown_as_it_is(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    """A desa the region table lacks (an older import): the page still opens, and names
    the code with what the table has of its kecamatan and kabupaten."""
    me = staff.create("verifikator")
    case = cases.make(status=S.VERIFIKASI, assigned_to=me.id)
    with app.app_context():
        appeal = cases.get(case)
        db.session.add(appeal)
        appeal.details = {"desa_mismatch": {"chosen": "32.16.01.2999", "dtsen": DESA}}
        appeal.subject_is_filer_household = False
        appeal.subject_name = "Pak Rahmat"
        db.session.commit()

    page = get(sign_in(me), f"/staf/kasus/{case.id}")

    assert page.status == 200
    assert "The filer named desa 32.16.01.2999" in " ".join(page.texts(".flag"))
