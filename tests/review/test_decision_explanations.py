"""Standard explanations of decisions: defaults, an office's own (its admin_dinsos only),
picked by the verifikator and edited before saving; the citizen reads the final text."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from portal.appeals.states import AppealStatus
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client, Page
from tests.review.conftest import (
    KOTA_BEKASI_DESA,
    CaseFactory,
    audit,
    errors,
    follow,
    get,
    location,
    post,
)
from tests.review.test_decision_panel import finding

S = AppealStatus
PAGE = "/staf/penjelasan"
OWN = "Petugas Dinsos Kabupaten Bekasi sudah mengunjungi rumah dan tidak menemukan laporannya."
DEFAULT = (
    "An officer visited the household and could not confirm what you reported. "
    "The data stays as it is."
)


def note_and_reason(page: Page) -> tuple[str, str]:
    note = page.soup.select_one("#putuskan textarea[name=note]")
    chosen = page.soup.select_one("#putuskan select[name=reason] option[selected]")
    return (
        note.get_text().strip() if note else "",
        str(chosen["value"]) if chosen else "",
    )


def test_an_admin_keeps_the_offices_explanations_and_its_officers_pick_and_edit_them(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    office = sign_in(staff.create("admin_dinsos"))
    page = get(office, PAGE)
    assert page.status == 200
    assert page.soup.select_one("textarea[name=not_confirmed_in_field]").get_text().strip() == (
        DEFAULT
    )
    saved = post(office, PAGE, {**_others(page), "not_confirmed_in_field": OWN})
    assert location(saved) == PAGE
    assert "Explanations saved." in follow(office, saved).text
    [event] = audit(app, "edit_explanation")
    assert (event.before["text"], event.after["text"]) == (DEFAULT, OWN)
    assert event.after["kabupaten"] == "32.16"
    # saving the same again changes nothing and writes no audit row
    post(office, PAGE, {**_others(page), "not_confirmed_in_field": OWN})
    assert len(audit(app, "edit_explanation")) == 1

    me = staff.create("verifikator")
    case = cases.make(status=S.VERIFIKASI, assigned_to=me.id)
    # the field check the reason names, done, and not confirming the report
    cases.field_check(case, me.id, done_by=staff.create("operator_desa").id)
    finding(app, case, "not_confirmed")
    client = sign_in(me)
    picked = get(client, f"/staf/kasus/{case.id}/putuskan?penjelasan=not_confirmed_in_field")
    assert picked.status == 200
    assert note_and_reason(picked) == (OWN, "not_confirmed_in_field")
    assert OWN in picked.texts("#putuskan .explanations li")[2]
    # edited before saving: the citizen reads what was saved
    final = OWN + " Silakan hubungi kantor desa."
    data = {"decision": "ditolak", "reason": "not_confirmed_in_field", "note": final}
    assert post(client, f"/staf/kasus/{case.id}/putuskan", data).status == 302
    assert cases.get(case).decision_note == final
    # an unknown pick: the empty form
    other = cases.make(status=S.VERIFIKASI, assigned_to=me.id)
    assert note_and_reason(get(client, f"/staf/kasus/{other.id}?penjelasan=nope")) == ("", "")


def test_another_kabupaten_keeps_the_defaults(
    staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    office = sign_in(staff.create("admin_dinsos"))
    page = get(office, PAGE)
    assert post(office, PAGE, {**_others(page), "not_confirmed_in_field": OWN}).status == 302
    there = staff.create("verifikator", ["32.75"])
    case = cases.make(status=S.VERIFIKASI, assigned_to=there.id, desa=KOTA_BEKASI_DESA)
    picked = get(sign_in(there), f"/staf/kasus/{case.id}?penjelasan=not_confirmed_in_field")
    assert note_and_reason(picked) == (DEFAULT, "not_confirmed_in_field")
    assert OWN not in picked.text


def test_only_an_admin_dinsos_edits_explanations(
    staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    for role in ("verifikator", "operator_desa", "pusat"):
        client = sign_in(staff.create(role))
        assert get(client, PAGE).status == 403
        assert post(client, PAGE, {"other": "Alasan lain yang cukup panjang."}).status == 403


def test_an_explanation_too_short_or_empty_is_refused_with_a_message(
    app: Flask, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    office = sign_in(staff.create("admin_dinsos"))
    page = get(office, PAGE)
    refused = post(office, PAGE, {**_others(page), "other": "Pendek"})
    assert refused.status == 400
    assert errors(refused) == ["Write between 10 and 2000 characters."]
    assert audit(app, "edit_explanation") == []


def _others(page: Page) -> dict[str, str]:
    """Every explanation as the page shows it (what a browser sends back unchanged)."""
    return {
        str(t["name"]): t.get_text().strip()
        for t in page.soup.select("form textarea")
        if t.get("name")
    }
