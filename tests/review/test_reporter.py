"""The reporter protected by role (issue 14, part 1): a desa operator never sees who filed a
case (NIK, No. KK, name, phone, e-mail, nor the filer's own words) on any staff page or
download they can reach; the deciders of the area see the filer on the case page, and that
view is audited (``view_case`` with ``filer_shown``). The rule: permissions.may_see_filer.

The case: DEDI KURNIAWAN of Sagara Makmur reports a neighbour household in Bunibakti by
name, through the public filing flow, with a phone and an e-mail; a verifikator links the
household and asks the operator of Bunibakti for a field check."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask, url_for

from portal.appeals.models import Appeal
from tests.appeals.conftest import load_case, receipt_ticket, submit, walk
from tests.fixtures.factories import Factory
from tests.fixtures.staff import StaffFactory
from tests.helpers import Client
from tests.review.conftest import Case, CaseFactory, audit, english, get, post
from tests.review.test_matching import (
    BUNIBAKTI,
    Town,
    publish_town,
    refs,
    report_answers,
    search,
)

FILER_PHONE = "081277334411"
FILER_EMAIL = "dedi.pelapor.rahasia@example.com"
FILER_NAME = "DEDI KURNIAWAN"


@dataclass
class Reported:
    case: Appeal
    check_id: int
    photo_id: int
    secrets: list[str]  # every string that would identify the filer


def file_about_the_neighbour(app: Flask, town: Town) -> Appeal:
    answers = report_answers(town)
    answers["rincian"]["note"] = f"Saya {FILER_NAME}, tetangga sebelah. Punya dua mobil baru."
    answers["kontak"] = {"phone": FILER_PHONE, "email": FILER_EMAIL}
    citizen = english(app.test_client())  # type: ignore[arg-type]
    walk(citizen, "sanggahan", answers)
    sent = submit(citizen, "sanggahan")
    assert sent.status == 302, sent.error_summary()
    return load_case(app, receipt_ticket(citizen))


@pytest.fixture
def town(factory: Factory) -> Town:
    return publish_town(factory)


@pytest.fixture
def reported(app: Flask, staff: StaffFactory, sign_in, town: Town, cases: CaseFactory) -> Reported:
    case = file_about_the_neighbour(app, town)
    verifikator = sign_in(staff.create("verifikator"))
    assert post(verifikator, f"/staf/kasus/{case.id}/ambil").status == 302
    linked = post(
        verifikator,
        f"/staf/kasus/{case.id}/tautkan",
        {"person": refs(search(verifikator, case))[0]},
    )
    assert linked.status == 302
    asked = post(
        verifikator,
        f"/staf/kasus/{case.id}/verval",
        {"desa": BUNIBAKTI, "instructions": "Look at the house and the cars."},
    )
    assert asked.status == 302
    [check] = cases.checks(Case(case.id, case.ticket, BUNIBAKTI))
    photo_id = cases.photo(Case(case.id, case.ticket, BUNIBAKTI))  # the filer's evidence
    filer = town.filer.members[0]
    assert case.filer_nik == filer.nik
    assert case.contact_email == FILER_EMAIL
    phone = case.contact_phone or ""
    secrets = [filer.nik, town.filer.no_kk, FILER_NAME, FILER_EMAIL, FILER_PHONE, phone[-9:]]
    secrets += [m.nama for m in town.filer.members] + [m.nik for m in town.filer.members]
    return Reported(case, check.id, photo_id, secrets)


def staff_get_urls(app: Flask, reported: Reported) -> dict[str, str]:
    """Every GET page of the staff area (review.* and auth.*), filled in with this case: a
    page added later is checked too without touching this test."""
    values = {
        "appeal_id": reported.case.id,
        "check_id": reported.check_id,
        "photo_id": reported.photo_id,
    }
    urls: dict[str, str] = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.split(".")[0] not in ("review", "auth"):
                continue
            if "GET" not in (rule.methods or ()):
                continue
            args = {a: values.get(a, 1) if a.endswith("_id") else "x" for a in rule.arguments}
            urls[rule.endpoint] = url_for(rule.endpoint, **args)
    return urls


def leaked(client: Client, url: str, secrets: list[str]) -> list[str]:
    response = client.get(url)
    try:
        assert response.status_code < 500, f"{url}: {response.status_code}"
        body = response.get_data()
        headers = str(response.headers).encode()
    finally:
        response.close()
    return [s for s in secrets if s.encode() in body or s.encode() in headers]


def test_no_staff_page_shows_the_filer_to_the_desa_operator(
    app: Flask, staff: StaffFactory, sign_in, reported: Reported
) -> None:
    operator = sign_in(staff.create("operator_desa", [BUNIBAKTI]))
    urls = staff_get_urls(app, reported)
    # the pages that matter are among them, and the operator reaches them
    for endpoint in ("review.queue", "review.case", "review.field_checks", "review.field_check"):
        assert endpoint in urls
    assert get(operator, urls["review.case"]).status == 200
    assert get(operator, urls["review.field_check"]).status == 200
    photo = operator.get(urls["review.photo"])
    photo.close()
    assert photo.status_code == 200

    found = {url: leaked(operator, url, reported.secrets) for url in urls.values()}

    assert {url: s for url, s in found.items() if s} == {}
    page = get(operator, urls["review.case"])
    assert page.soup.select(".filer") == []
    assert "Filer" not in page.texts(".summary__key")
    assert "Filer's note" not in page.texts(".summary__key")
    assert "about their own household" not in page.text
    seen = [e.after for e in audit(app, "view_case") if e.role == "operator_desa"]
    assert seen
    assert all(after == {"filer_shown": False} for after in seen)


@pytest.mark.parametrize("role", ["verifikator", "admin_dinsos"])
def test_the_deciders_see_the_filer_on_the_case_page_and_it_is_audited(
    app: Flask, staff: StaffFactory, sign_in, reported: Reported, role: str
) -> None:
    officer = staff.create(role)
    client = sign_in(officer)

    page = get(client, f"/staf/kasus/{reported.case.id}")

    assert page.status == 200
    [row] = page.texts(".filer")
    assert f"NIK {reported.case.filer_nik}" in row
    assert FILER_NAME in page.text  # the filer's own note, shown with the filer
    assert FILER_EMAIL not in page.text  # contact: no staff page at all
    assert FILER_PHONE not in page.text
    [event] = [e for e in audit(app, "view_case") if e.staff_id == officer.id]
    assert event.target_id == reported.case.id
    assert event.after == {"filer_shown": True}


def test_pusat_and_another_areas_staff_do_not_see_the_filer(
    app: Flask, staff: StaffFactory, sign_in, reported: Reported
) -> None:
    pusat = sign_in(staff.create("pusat"))
    page = get(pusat, f"/staf/kasus/{reported.case.id}")
    assert page.status == 200
    assert page.soup.select(".filer") == []
    assert not [s for s in reported.secrets if s in page.text]
    elsewhere = sign_in(staff.create("verifikator", ["32.75"]))
    assert get(elsewhere, f"/staf/kasus/{reported.case.id}").status == 404


def test_the_operator_does_not_learn_that_a_household_filed_about_itself(
    app: Flask, staff: StaffFactory, sign_in, cases: CaseFactory
) -> None:
    case = cases.make()  # about the filer's own household, filed by NIK 3216014101900002
    operator = sign_in(staff.create("operator_desa"))
    verifikator = sign_in(staff.create("verifikator"))

    seen = get(operator, f"/staf/kasus/{case.id}")
    decider = get(verifikator, f"/staf/kasus/{case.id}")

    assert seen.status == decider.status == 200
    for text in ("3216014101900002", "about their own household", "Rumahnya besar"):
        assert text not in seen.text
        assert text in decider.text
