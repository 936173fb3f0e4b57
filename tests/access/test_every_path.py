"""Every path that reads a household's data records it (issue 13: "a test enumerates
them"; issue 12: the access log written through one function).

portal/access/paths.py declares every route of the app: the ones that read a household's
data and the purpose each records, the ones that show again what another request
recorded, and the ones that read no household's data, each with its reason. Here:
- a route in none of those lists (a new page) fails until it is declared;
- each route that reads is hit through HTTP as the role that uses it, and must add exactly
  one access row per household it read, with its purpose, role and office; each route that
  shows again must add none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from portal import create_app, db
from portal.access import paths
from portal.appeals.models import Appeal
from portal.appeals.states import AppealStatus
from portal.dataimport.demo import House
from portal.lookup.models import AccessEvent
from tests.access.helpers import kk_of, look_up
from tests.appeals.conftest import post_on, walk
from tests.fixtures.factories import DESA, Factory
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client
from tests.review.conftest import CaseFactory, get, post
from tests.review.test_export import approved_case, download, exports_in_db

Row = tuple[str, str, str | None, str | None]  # kk_hmac, purpose, role, office


def undeclared(app: Flask) -> set[str]:
    routes = {rule.endpoint for rule in app.url_map.iter_rules()}
    declared = set(paths.RECORDS) | set(paths.COVERED) | set(paths.NO_HOUSEHOLD_DATA)
    return routes - declared


def test_a_new_route_fails_until_declared(tmp_path: Path) -> None:
    fresh = create_app(
        {"ENV_NAME": "testing", "TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    )
    try:
        fresh.add_url_rule("/keluarga/<int:ident>", "review.household", lambda ident: "")
        assert undeclared(fresh) == {"review.household"}
    finally:
        fresh.extensions["db_engine"].dispose()


def test_every_route_is_declared(app: Flask) -> None:
    routes = {rule.endpoint for rule in app.url_map.iter_rules()}
    declared = [set(paths.RECORDS), set(paths.COVERED), set(paths.NO_HOUSEHOLD_DATA)]
    assert not undeclared(app), (
        f"declare these routes in portal/access/paths.py (do they read a household's "
        f"data? then they must call portal.access.record): {sorted(undeclared(app))}"
    )
    assert set().union(*declared) <= routes, "portal/access/paths.py names a route that is gone"
    assert sum(len(d) for d in declared) == len(set().union(*declared)), "declared twice"
    for endpoint, (recorder, _why) in paths.COVERED.items():
        assert recorder in paths.RECORDS, f"{endpoint} is covered by a route that records nothing"


@dataclass
class World:
    app: Flask
    client: Client
    ours: House
    theirs: House
    cases: CaseFactory
    staff: StaffFactory
    sign_in: Callable[[Officer], Client]

    def kk(self, house: House) -> str:
        return kk_of(self.app, house)


def _lookup(w: World) -> list[Row]:
    page = look_up(w.client, w.ours)
    assert page.path == "/hasil"
    assert "receives bansos" in page.h1
    return [(w.kk(w.ours), "lookup", None, None)]


def _filing(w: World) -> Callable[[], list[Row]]:
    path = walk(w.client, "sanggahan", {"alasan": {"reason": "INC-MAMPU"}}, stop_at="pelapor")

    def hit() -> list[Row]:
        who = {"nik": w.ours.members[0].nik, "no_kk": w.ours.no_kk}
        assert post_on(w.client, w.client.page(path), who).status == 302
        return [(w.kk(w.ours), "filing", None, None)]

    return hit


def _result(w: World) -> Callable[[], list[Row]]:
    look_up(w.client, w.ours)

    def hit() -> list[Row]:
        page = w.client.page("/hasil")
        assert len(page.texts(".member__name")) == len(w.ours.members)
        return []

    return hit


def _case(w: World) -> Callable[[], list[Row]]:
    case = w.cases.make(subject_kk_hmac=w.kk(w.ours))
    desk = w.sign_in(w.staff.create("verifikator"))

    def hit() -> list[Row]:
        page = get(desk, f"/staf/kasus/{case.id}")
        assert page.status == 200
        assert w.ours.alamat in page.text  # the household in DTSEN, shown
        return [(w.kk(w.ours), "case", "verifikator", "32.16")]

    return hit


def _decide(w: World) -> Callable[[], list[Row]]:
    me = w.staff.create("verifikator")
    case = w.cases.make(
        status=AppealStatus.VERIFIKASI, assigned_to=me.id, subject_kk_hmac=w.kk(w.ours)
    )
    desk = w.sign_in(me)

    def hit() -> list[Row]:
        # a decision against its own reason: the case page again, with its conflicts
        data = {"decision": "disetujui", "reason": "not_confirmed_in_field", "note": "x" * 12}
        page = post(desk, f"/staf/kasus/{case.id}/putuskan", data)
        assert page.status == 400
        assert w.ours.alamat in page.text  # the household in DTSEN, shown beside the panel
        return [(w.kk(w.ours), "case", "verifikator", "32.16")]

    return hit


def _photo(w: World) -> Callable[[], list[Row]]:
    case = w.cases.make(subject_kk_hmac=w.kk(w.ours))
    photo = w.cases.photo(case)
    desk = w.sign_in(w.staff.create("verifikator"))

    def hit() -> list[Row]:
        response = desk.get(f"/staf/kasus/{case.id}/foto/{photo}")
        response.close()  # the file is streamed
        assert response.status_code == 200
        return []

    return hit


def _field_check(w: World) -> Callable[[], list[Row]]:
    case = w.cases.make(subject_kk_hmac=w.kk(w.ours))
    verifier = w.staff.create("verifikator")
    check = w.cases.field_check(case, verifier.id)
    operator = w.sign_in(w.staff.create("operator_desa"))

    def hit() -> list[Row]:
        assert get(operator, f"/staf/verval/{check}").status == 200
        return [(w.kk(w.ours), "field_check", "operator_desa", DESA)]

    return hit


def _match(w: World) -> Callable[[], list[Row]]:
    case = w.cases.make()
    with w.app.app_context():
        db.session.execute(
            update(Appeal)
            .where(Appeal.id == case.id)
            .values(subject_is_filer_household=False, subject_name="Pak Budi Santoso")
        )
        db.session.commit()
    desk = w.sign_in(w.staff.create("admin_dinsos"))

    def hit() -> list[Row]:
        page = post(desk, f"/staf/kasus/{case.id}/cocokkan", {"nama": "Budi", "desa": DESA})
        assert page.status == 200
        assert len(page.soup.select("tr.candidate")) == 2  # both households' heads
        return [(w.kk(house), "search", "admin_dinsos", "32.16") for house in (w.ours, w.theirs)]

    return hit


def _queue(w: World) -> Callable[[], list[Row]]:
    w.cases.make(subject_kk_hmac=w.kk(w.ours))
    w.cases.make(subject_kk_hmac=w.kk(w.ours))  # two cases, one household: one row
    w.cases.make(subject_kk_hmac=w.kk(w.theirs))
    w.cases.make()  # no household in DTSEN: no name shown, nothing recorded
    desk = w.sign_in(w.staff.create("verifikator"))

    def hit() -> list[Row]:
        page = get(desk, "/staf/")
        assert len(page.soup.select("table.table--queue tbody tr")) == 4
        assert w.ours.members[0].nama in page.text  # the head's name, from DTSEN
        return [(w.kk(h), "queue", "verifikator", "32.16") for h in (w.ours, w.theirs)]

    return hit


def _search(w: World) -> Callable[[], list[Row]]:
    w.cases.make(subject_kk_hmac=w.kk(w.ours))
    w.cases.make(subject_kk_hmac=w.kk(w.theirs))
    desk = w.sign_in(w.staff.create("verifikator"))

    def hit() -> list[Row]:
        page = post(desk, "/staf/cari", {"q": w.ours.no_kk})
        assert page.status == 200
        assert len(page.soup.select("table.table--queue tbody tr")) == 1
        return [(w.kk(w.ours), "search", "verifikator", "32.16")]

    return hit


def _export(w: World) -> Callable[[], list[Row]]:
    approved_case(w.app, kk_hmac=w.kk(w.ours))
    approved_case(w.app, kk_hmac=w.kk(w.ours))  # two cases, one household: one row
    approved_case(w.app, kk_hmac=w.kk(w.theirs))
    admin = w.staff.login(w.staff.create("admin_dinsos"), w.app.test_client())  # type: ignore[arg-type]

    def hit() -> list[Row]:
        assert admin.post_form("/staf/ekspor", {}).status == 302
        return [(w.kk(h), "export", "admin_dinsos", "32.16") for h in (w.ours, w.theirs)]

    return hit


def _download(w: World) -> Callable[[], list[Row]]:
    _export(w)()
    [made] = exports_in_db(w.app)
    pusat = w.staff.login(w.staff.create("pusat"), w.app.test_client())  # type: ignore[arg-type]

    def hit() -> list[Row]:
        assert len(download(pusat, made.id)) == 3
        return [(w.kk(h), "download", "pusat", None) for h in (w.ours, w.theirs)]

    return hit


# endpoint -> set up, then return the request that reads (and the rows it must add)
SCENARIOS: dict[str, Callable[[World], Callable[[], list[Row]]]] = {
    "lookup.index": lambda w: lambda: _lookup(w),
    "lookup.result": _result,
    "appeals.step": _filing,
    "review.case": _case,
    "review.decide": _decide,
    "review.photo": _photo,
    "review.field_check": _field_check,
    "review.match": _match,
    "review.queue": _queue,
    "review.search": _search,
    "review.create_export": _export,
    "review.download_export": _download,
}


def test_each_reading_route_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(paths.RECORDS) | set(paths.COVERED)


def _rows_after(app: Flask, last: int) -> list[Row]:
    with app.app_context():
        found = db.session.execute(
            select(
                AccessEvent.kk_hmac,
                AccessEvent.purpose,
                AccessEvent.actor_role,
                AccessEvent.actor_office,
            ).where(AccessEvent.id > last)
        ).all()
    return sorted((r[0], r[1], r[2], r[3]) for r in found)


@pytest.mark.parametrize("endpoint", sorted(SCENARIOS))
def test_each_reading_route_records_one_row_per_household_read(
    endpoint: str,
    app: Flask,
    client: Client,
    factory: Factory,
    cases: CaseFactory,
    staff: StaffFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    ours = factory.household(desil=2, size=3, alamat="KP. SAGARA RT 002/RW 005")
    theirs = factory.household(desil=4, size=2, alamat="KP. PASAR RT 001/RW 001")
    factory.publish("2026Q3", [ours, theirs])
    hit = SCENARIOS[endpoint](World(app, client, ours, theirs, cases, staff, sign_in))
    with app.app_context():
        last = int(db.session.scalar(select(func.coalesce(func.max(AccessEvent.id), 0))) or 0)
    expected = hit()
    assert _rows_after(app, last) == sorted(expected)
    if endpoint in paths.RECORDS:
        assert {row[1] for row in expected} == {paths.RECORDS[endpoint].value}


def test_a_refused_read_records_nothing(
    app: Flask,
    factory: Factory,
    cases: CaseFactory,
    staff: StaffFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    """Another area's officer, or a desa operator of another desa, is answered 404 and
    nothing is written to the household's record."""
    ours = factory.household(desil=2, size=3)
    factory.publish("2026Q3", [ours])
    case = cases.make(subject_kk_hmac=kk_of(app, ours))
    check = cases.field_check(case, staff.create("verifikator").id)
    kota = sign_in(staff.create("verifikator", ["32.75"]))
    elsewhere = sign_in(staff.create("operator_desa", ["32.16.01.2002"]))
    assert get(kota, f"/staf/kasus/{case.id}").status == 404
    assert get(elsewhere, f"/staf/verval/{check}").status == 404
    assert _rows_after(app, 0) == []
