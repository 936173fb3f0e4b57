"""Matching a neighbour reported by name to DTSEN (issue 10, item 3), through the staff
pages: the case goes to the Dinsos of the desa the filer named; a verifikator or
admin_dinsos there searches that desa's households by name, sees the candidates and links
one (audited), and the case page then shows the household as for a case filed with a NIK.
Another area's staff see nothing of it, and no household outside the officer's scope can be
searched, shown or linked, even by a crafted request. Name searches are rate-limited."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import db, policy
from portal.appeals.models import Appeal
from portal.appeals.states import AppealStatus
from portal.dataimport.demo import House, Numbers
from portal.dataimport.queries import pseudonym
from portal.extensions import limiter
from portal.lookup.models import AccessEvent
from tests.appeals.conftest import decide, load_case, receipt_ticket, submit, walk
from tests.fixtures.factories import DESA, Factory
from tests.fixtures.staff import StaffFactory
from tests.fixtures.worlds import KeptWorld
from tests.helpers import Client, Page
from tests.review.conftest import KOTA_BEKASI_DESA, audit, english, errors, follow, get, post

BUNIBAKTI = "32.16.02.2001"  # Kecamatan Babelan, Kabupaten Bekasi


@dataclass
class Town:
    filer: House  # files the report (Sagara Makmur)
    target: House  # RAHMAT HIDAYAT in Bunibakti, RT 003/RW 012: the one reported
    namesake: House  # RAHMAT SUDRAJAT in Bunibakti, another RT/RW
    sagara: House  # a RAHMAT HIDAYAT in another desa of the kabupaten
    kota: House  # a RAHMAT HIDAYAT in Kota Bekasi: another area


def renamed(house: House, *names: str) -> House:
    for member, name in zip(house.members, names, strict=False):
        member.nama = name
    return house


def publish_town(factory: Factory) -> Town:
    town = Town(
        filer=renamed(factory.household(desa=DESA, size=2), "DEDI KURNIAWAN", "YATI"),
        target=renamed(
            factory.household(desa=BUNIBAKTI, alamat="KP. BUNI RT 003/RW 012", size=3),
            "RAHMAT HIDAYAT",
            "ENI SURYANI",
            "ILHAM",
        ),
        namesake=renamed(
            factory.household(desa=BUNIBAKTI, alamat="KP. BUNI RT 001/RW 004", size=2),
            "RAHMAT SUDRAJAT",
            "LILIS",
        ),
        sagara=renamed(factory.household(desa=DESA, size=2), "RAHMAT HIDAYAT", "SRI"),
        kota=renamed(
            factory.household(desa=KOTA_BEKASI_DESA, alamat="JL. MAWAR RT 003/RW 012", size=2),
            "RAHMAT HIDAYAT",
            "DEWI",
        ),
    )
    factory.publish("2026Q3", [town.filer, town.target, town.namesake, town.sagara, town.kota])
    return town


@pytest.fixture
def town(kept_world: KeptWorld) -> Town:
    return kept_world(publish_town)


def report_answers(town: Town, **subject: Any) -> dict[str, dict[str, Any]]:
    """INC-MAMPU about "Pak Rahmat" in Bunibakti, RT 3/RW 12, no NIK."""
    return {
        "alasan": {"reason": "INC-MAMPU"},
        "pelapor": {"nik": town.filer.members[0].nik, "no_kk": town.filer.no_kk},
        "subjek": {
            "whose": "other",
            "subject_name": "Pak Rahmat",
            "subject_alamat": "KP. BUNI, rumah cat hijau",
            "subject_rt": "3",
            "subject_rw": "12",
            "desa": BUNIBAKTI,
            **subject,
        },
        "rincian": {"evidence": ["vehicle"], "note": "Punya dua mobil baru dan rumah besar."},
        "kontak": {"phone": "", "email": ""},
    }


def file_report(app: Flask, town: Town, **subject: Any) -> Appeal:
    citizen = english(app.test_client())  # type: ignore[arg-type]
    walk(citizen, "sanggahan", report_answers(town, **subject))
    sent = submit(citizen, "sanggahan")
    assert sent.status == 302, sent.error_summary()
    return load_case(app, receipt_ticket(citizen))


def match_url(case: Appeal) -> str:
    return f"/staf/kasus/{case.id}/cocokkan"


def search(client: Client, case: Appeal, name: str = "Pak Rahmat", desa: str = BUNIBAKTI) -> Page:
    return post(client, match_url(case), {"nama": name, "desa": desa})


def candidate_names(page: Page) -> list[str]:
    return [row.find("td").get_text(strip=True) for row in page.soup.select("tr.candidate")]


def refs(page: Page) -> list[str]:
    return [str(i["value"]) for i in page.soup.select("tr.candidate input[name=person]")]


def ref_of(app: Flask, house: House, member: int = 0) -> str:
    with app.app_context():
        return pseudonym(house.members[member].nik, "nik")


def reload(app: Flask, case: Appeal) -> Appeal:
    with app.app_context():
        found = db.session.get(Appeal, case.id)
        assert found is not None
        return found


# --- routing and scope ----------------------------------------------------------------------


def test_a_report_by_name_goes_to_the_named_desas_dinsos_and_no_other(
    app: Flask, staff: StaffFactory, sign_in, town: Town
) -> None:
    case = file_report(app, town)
    assert (case.kabupaten_code, case.kode_desa, case.subject_kk_hmac) == ("32.16", BUNIBAKTI, None)

    bekasi = sign_in(staff.create("verifikator"))
    assert case.ticket[:4] in " ".join(get(bekasi, "/staf/").texts("td, th"))
    page = get(bekasi, f"/staf/kasus/{case.id}")
    assert page.status == 200
    about = " ".join(page.texts(".reported"))
    assert "Pak Rahmat" in about
    assert "KP. BUNI, rumah cat hijau RT 003/RW 012" in about
    assert "Desa named by the filer: Bunibakti, Babelan, Kabupaten Bekasi" in about
    assert "The filer did not know the NIK." in about
    assert "Not matched to a household in DTSEN yet." in about
    assert page.soup.find("a", href=match_url(case))

    kota = sign_in(staff.create("verifikator", ["32.75"]))
    assert get(kota, f"/staf/kasus/{case.id}").status == 404
    assert case.ticket[:4] not in get(kota, "/staf/").text
    assert get(kota, match_url(case)).status == 404
    assert search(kota, case).status == 404
    linked = post(kota, f"/staf/kasus/{case.id}/tautkan", {"person": ref_of(app, town.kota)})
    assert linked.status == 404
    assert reload(app, case).subject_kk_hmac is None


@pytest.mark.parametrize("role", ["operator_desa", "pusat"])
def test_only_a_decider_of_the_area_may_match(
    app: Flask, staff: StaffFactory, sign_in, town: Town, role: str
) -> None:
    case = file_report(app, town)
    officer = sign_in(staff.create(role, [BUNIBAKTI] if role == "operator_desa" else None))
    page = get(officer, f"/staf/kasus/{case.id}")
    assert page.status == 200
    assert not page.soup.find("a", href=match_url(case))
    assert get(officer, match_url(case)).status == 403
    assert search(officer, case).status == 403
    linked = post(officer, f"/staf/kasus/{case.id}/tautkan", {"person": ref_of(app, town.target)})
    assert linked.status == 403
    assert reload(app, case).subject_kk_hmac is None


# --- searching and linking ------------------------------------------------------------------


def test_in_scope_staff_find_the_household_by_name_and_link_it(
    app: Flask, staff: StaffFactory, sign_in, town: Town
) -> None:
    case = file_report(app, town)
    officer = staff.create("verifikator")
    client = sign_in(officer)

    form = get(client, match_url(case))
    assert form.status == 200
    assert form.soup.find("input", attrs={"name": "nama"})["value"] == "Pak Rahmat"
    assert form.soup.find("option", attrs={"value": BUNIBAKTI, "selected": True})

    found = search(client, case)
    assert found.status == 200
    # the household at the RT/RW the filer gave first; nobody of another desa or area
    assert candidate_names(found) == ["RAHMAT HIDAYAT", "RAHMAT SUDRAJAT"]
    assert "same RT/RW" in found.soup.select("tr.candidate")[0].get_text(" ")
    assert refs(found)[0] == ref_of(app, town.target)
    for house in (town.target, town.namesake):  # names in scope, never the numbers
        assert house.no_kk not in found.text
        assert all(m.nik not in found.text for m in house.members)
    [searched] = audit(app, "match_search")
    assert searched.staff_id == officer.id
    assert searched.target_id == case.id
    assert searched.after == {"desa": BUNIBAKTI, "name": "rahmat", "candidates": 2}
    with app.app_context():
        # the search's reads (the filer's own, proving NIK + No. KK while filing, is "filing")
        logged = set(
            db.session.scalars(select(AccessEvent.kk_hmac).where(AccessEvent.purpose == "search"))
        )
        assert logged == {pseudonym(h.no_kk, "kk") for h in (town.target, town.namesake)}

    done = post(client, f"/staf/kasus/{case.id}/tautkan", {"person": refs(found)[0]})
    assert done.status == 302
    page = follow(client, done)
    assert "The household is linked to this case." in page
    for member in town.target.members:  # shown as for a case filed with its NIK
        assert member.nik in page.text
        assert member.nama in page.text
    assert "Matched to DTSEN by Officer" in " ".join(page.texts(".reported"))

    linked = reload(app, case)
    with app.app_context():
        assert linked.subject_kk_hmac == pseudonym(town.target.no_kk, "kk")
    assert linked.subject_nik == town.target.members[0].nik
    assert (linked.subject_linked_by_id, linked.kode_desa) == (officer.id, BUNIBAKTI)
    assert "desa_mismatch" not in linked.details
    [row] = audit(app, "link_household")
    assert (row.staff_id, row.target_id) == (officer.id, case.id)
    assert row.before["subject_kk_hmac"] is None
    assert row.after["subject_kk_hmac"] == linked.subject_kk_hmac
    # pseudonyms only: none of the numbers (a 32-hex pseudonym may hold 16 digits in a row,
    # about one run in fifty, so the check names the numbers rather than any digit run)
    written = repr(row.before) + repr(row.after)
    numbers = [town.target.no_kk, *(m.nik for m in town.target.members)]
    assert not [n for n in numbers if n in written]


def test_a_household_outside_scope_cannot_be_linked_by_a_crafted_post(
    app: Flask, staff: StaffFactory, sign_in, town: Town
) -> None:
    case = file_report(app, town)
    client = sign_in(staff.create("verifikator"))

    crafted = post(client, f"/staf/kasus/{case.id}/tautkan", {"person": ref_of(app, town.kota)})

    assert crafted.status == 404
    unchanged = reload(app, case)
    assert (unchanged.subject_kk_hmac, unchanged.subject_nik) == (None, None)
    assert unchanged.kode_desa == BUNIBAKTI
    assert audit(app, "link_household") == []
    assert [r.reason for r in audit(app, "refused")] == [f"404 POST /staf/kasus/{case.id}/tautkan"]
    page = get(client, f"/staf/kasus/{case.id}")
    assert all(m.nik not in page.text for m in town.kota.members)


@pytest.mark.parametrize("person", ["", "x" * 32, "0" * 32, "'; DROP TABLE persons; --"])
def test_a_link_to_no_household_changes_nothing(
    app: Flask, staff: StaffFactory, sign_in, town: Town, person: str
) -> None:
    case = file_report(app, town)
    client = sign_in(staff.create("admin_dinsos"))
    assert post(client, f"/staf/kasus/{case.id}/tautkan", {"person": person}).status == 404
    assert reload(app, case).subject_kk_hmac is None


def test_a_desa_outside_scope_cannot_be_searched(
    app: Flask, staff: StaffFactory, sign_in, town: Town
) -> None:
    case = file_report(app, town)
    client = sign_in(staff.create("verifikator"))

    refused = search(client, case, desa=KOTA_BEKASI_DESA)

    assert refused.status == 400
    assert errors(refused) == ["Choose one of the options shown."]
    assert candidate_names(refused) == []
    assert "DEWI" not in refused.text
    assert audit(app, "match_search") == []


def test_titles_alone_are_no_search(app: Flask, staff: StaffFactory, sign_in, town: Town) -> None:
    case = file_report(app, town)
    client = sign_in(staff.create("verifikator"))
    refused = search(client, case, name="Pak Haji")
    assert refused.status == 400
    assert errors(refused) == ["Type a name: letters, not only a title like Pak."]
    assert audit(app, "match_search") == []


def test_nobody_of_that_name_in_the_desa(app: Flask, staff: StaffFactory, sign_in, town) -> None:
    case = file_report(app, town)
    client = sign_in(staff.create("verifikator"))
    page = search(client, case, name="Sukardi")
    assert page.status == 200
    assert candidate_names(page) == []
    assert "Nobody of that name lives in this desa in the current data." in page


def test_linking_a_household_of_another_desa_moves_the_case_and_flags_it(
    app: Flask, staff: StaffFactory, sign_in, town: Town
) -> None:
    case = file_report(app, town)
    client = sign_in(staff.create("verifikator"))
    found = search(client, case, desa=DESA)
    assert candidate_names(found) == ["RAHMAT HIDAYAT"]

    assert post(client, f"/staf/kasus/{case.id}/tautkan", {"person": refs(found)[0]}).status == 302

    moved = reload(app, case)
    assert (moved.kode_desa, moved.kecamatan_code) == (DESA, "32.16.01")
    assert moved.details["desa_mismatch"] == {"chosen": BUNIBAKTI, "dtsen": DESA}
    page = get(client, f"/staf/kasus/{case.id}")
    assert (
        "The filer named desa Bunibakti, Babelan, Kabupaten Bekasi, but DTSEN has this "
        "household in Sagara Makmur, Tarumajaya, Kabupaten Bekasi: the case came to the staff "
        "of Sagara Makmur, Tarumajaya, Kabupaten Bekasi."
    ) in page.texts(".reported .flag")


def test_a_decided_case_can_no_longer_be_matched(
    app: Flask, staff: StaffFactory, sign_in, town: Town
) -> None:
    case = file_report(app, town)
    decide(app, case.ticket, AppealStatus.DITOLAK)
    client = sign_in(staff.create("verifikator"))

    assert not get(client, f"/staf/kasus/{case.id}").soup.find("a", href=match_url(case))
    assert search(client, case).status == 302  # back to the case, with a message
    linked = post(client, f"/staf/kasus/{case.id}/tautkan", {"person": ref_of(app, town.target)})
    assert linked.status == 403
    assert reload(app, case).subject_kk_hmac is None


def test_a_case_another_officer_holds_is_matched_by_that_officer_only(
    app: Flask, staff: StaffFactory, sign_in, town: Town
) -> None:
    case = file_report(app, town)
    holder = sign_in(staff.create("verifikator"))
    assert post(holder, f"/staf/kasus/{case.id}/ambil").status == 302
    other = sign_in(staff.create("verifikator"))

    refused = post(other, f"/staf/kasus/{case.id}/tautkan", {"person": ref_of(app, town.target)})

    assert refused.status == 403
    assert search(holder, case).status == 200


# --- the export -----------------------------------------------------------------------------


def test_the_export_carries_the_reported_name_and_address_and_never_the_reporter(
    app: Flask, staff: StaffFactory, sign_in, town: Town
) -> None:
    unmatched = file_report(app, town)
    matched = file_report(app, town, subject_name="Bu Eni", subject_rt="03", subject_rw="12")
    client = sign_in(staff.create("admin_dinsos"))
    found = search(client, matched, name="Bu Eni")
    assert candidate_names(found) == ["ENI SURYANI"]
    assert post(client, f"/staf/kasus/{matched.id}/tautkan", {"person": refs(found)[0]}).status
    for case in (unmatched, matched):
        decide(app, case.ticket, AppealStatus.DISETUJUI, reason="verified_in_field")

    assert post(client, "/staf/ekspor").status == 302
    with app.app_context():
        content = db.session.scalar(select(func.max(Appeal.export_id)))
        from portal.review import export as exporting
        from portal.review.models import Export

        export = db.session.get(Export, content)
        assert export is not None
        text = b"".join(exporting.chunks(export)).decode("utf-8")
    rows = {r["ticket"].replace("-", ""): r for r in csv.DictReader(io.StringIO(text))}

    plain = rows[unmatched.ticket]
    assert (plain["subject_name"], plain["subject_address"]) == (
        "Pak Rahmat",
        "KP. BUNI, rumah cat hijau RT 003/RW 012",
    )
    assert (plain["subject_nik"], plain["subject_no_kk"], plain["kode_desa"]) == ("", "", BUNIBAKTI)
    linked = rows[matched.ticket]
    assert linked["subject_name"] == "Bu Eni"
    assert linked["subject_nik"] == town.target.members[1].nik
    assert linked["subject_no_kk"] == town.target.no_kk
    for secret in (town.filer.no_kk, *(m.nik for m in town.filer.members), "DEDI"):
        assert secret not in text


# --- the rate limit -------------------------------------------------------------------------


def test_the_name_search_is_rate_limited_per_officer(limited_app: Flask, tmp_path: Path) -> None:
    limited_app.config["STAFF_MATCH_LIMIT"] = "2 per minute"
    with limited_app.app_context():
        limiter.reset()
    policy.reset(limited_app)
    town = publish_town(Factory(limited_app, tmp_path, Numbers(random.Random(11))))
    case = file_report(limited_app, town)
    staff = StaffFactory(limited_app)
    first = staff.login(staff.create("verifikator"), english(limited_app.test_client()))
    second = staff.login(staff.create("verifikator"), english(limited_app.test_client()))

    assert [search(first, case).status for _ in range(2)] == [200, 200]
    refused = search(first, case)
    assert refused.status == 429
    assert "RAHMAT" not in refused.text
    assert len(audit(limited_app, "match_search")) == 2
    assert search(second, case).status == 200  # per officer: a colleague is not held up
    assert get(first, f"/staf/kasus/{case.id}").status == 200  # reading the case still works


def test_the_desa_operator_doing_the_field_check_sees_whom_to_look_for(
    app: Flask, staff: StaffFactory, sign_in, town: Town
) -> None:
    case = file_report(app, town)
    verifikator = sign_in(staff.create("verifikator"))
    assert post(verifikator, f"/staf/kasus/{case.id}/ambil").status == 302
    asked = post(
        verifikator,
        f"/staf/kasus/{case.id}/verval",
        {"desa": BUNIBAKTI, "instructions": "Find the household and look at the house."},
    )
    assert asked.status == 302
    operator = sign_in(staff.create("operator_desa", [BUNIBAKTI]))
    [link] = get(operator, "/staf/verval").soup.select("a[href^='/staf/verval/']")

    task = get(operator, str(link["href"]))

    assert task.texts(".reported") == [
        "Reported as: Pak Rahmat, KP. BUNI, rumah cat hijau RT 003/RW 012"
    ]
