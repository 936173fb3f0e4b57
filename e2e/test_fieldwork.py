"""The verval task in the field (issue 14, part 4), on the operator's 360 px phone with
JavaScript off, in Bahasa Indonesia:

1. a citizen reports a well-off household of Sagara Makmur, leaving a mobile number; the
   verifikator takes the case and asks the desa for a field check;
2. the desa operator signs in and lands on their task list (not the queue), opens the task
   and finds there what the visit needs: the head of the household, the address with RT/RW,
   the members with relationship and age, the officer's instructions and the checklist of
   the reason;
3. in the field they answer part of the checklist, write a first note, attach a ~4 MB phone
   photo and press "Simpan draf"; they leave the page and come back later: everything is
   there, the photo kept;
4. they finish and send; "Yang sudah saya kirim" lists it with its date and finding; the
   verifikator reads the checklist answers on the case page;
5. no page the operator can reach shows who filed (NIK, No. KK, mobile number): the pages
   above, then every staff page linked from them, followed;
6. the verifikator decides on the finding.
"""

from __future__ import annotations

import re
from html import unescape as html_unescape
from pathlib import Path
from typing import Any

from e2e.conftest import Phone
from e2e.journeys import Officer, about_another_household, declare_and_send, enrol, start_sanggahan
from e2e.stack import STAFF, Stack
from e2e.test_staff import PASSWORDS, enrolment_path, find_in_queue

FILER_PHONE = "081377001122"
INSTRUCTIONS = "Lihat rumah dan kendaraannya, tanyakan ke ketua RT."
FIRST_NOTE = "Rumah dua lantai, ada mobil di garasi."
FINDING = FIRST_NOTE + " Ketua RT membenarkan keluarga ini sudah mampu."
FLOOR = "Apakah lantai rumah berubin atau keramik (bukan tanah atau bambu)?"
ASSETS = "Apakah rumah tangga ini memiliki mobil, beberapa sepeda motor, tanah, atau ternak?"
NEIGHBOURS = "Apakah RT/RW atau tetangga membenarkan laporan ini?"


def file_with_a_phone_number(citizen: Phone, stack: Stack) -> str:
    start_sanggahan(citizen, "Penerima jelas mampu", stack.demo["partly"])
    about_another_household(citizen, stack.demo["receiving"]["nik"])
    citizen.choose("Rumah besar atau bangunannya bagus")
    citizen.fill("Jelaskan keadaannya", "Rumahnya sudah dua lantai dan ada mobil baru di garasi.")
    citizen.submit("Lanjutkan", "photos")
    citizen.submit("Lanjutkan tanpa foto", "contact")
    citizen.fill("Nomor HP (tidak wajib)", FILER_PHONE)
    citizen.submit("Lanjutkan", "check")
    return declare_and_send(citizen)


def test_an_operator_does_the_verval_from_the_task_alone_with_a_draft_and_a_phone_photo(
    phone_factory: Any, stack: Stack, photos: dict[str, Path]
) -> None:
    officers = {
        role: Officer(phone_factory(f"field-{role}"), email, name, role, PASSWORDS[role])
        for email, name, role, _region in STAFF
        if role in ("verifikator", "operator_desa")
    }
    verifikator, operator = officers["verifikator"], officers["operator_desa"]

    # 1. the case, and the verifikator's request
    citizen = phone_factory("field-citizen")
    ticket = file_with_a_phone_number(citizen, stack)
    enrol(verifikator, enrolment_path(stack, verifikator))
    v = verifikator.phone
    find_in_queue(v, ticket)
    case_path = v.page.url.removeprefix(stack.url)
    v.submit("Ambil laporan ini", "claimed", exact=True)
    v.fill("Apa yang perlu diperiksa operator desa?", INSTRUCTIONS)
    v.submit("Kirim ke desa", "verval-asked", exact=True)

    # 2. the operator's home is the task list; the task says whom to visit and what to check
    enrol(operator, enrolment_path(stack, operator))  # lands on /staf/verval (signed_in)
    o = operator.phone
    seen: dict[str, str] = {"home": o.page.content()}
    o.follow(f"{ticket} · INC-MAMPU", "task")
    task_path = o.page.url.removeprefix(stack.url)
    assert o.h1() == f"Pemeriksaan lapangan (verval) untuk {ticket}"
    visit = o.page.locator(".visit").inner_text()
    assert "Kepala keluarga" in visit
    assert "RT" in o.page.locator(".visit__address").inner_text()
    assert o.page.locator(".visit__head").inner_text().strip()
    members = o.page.locator(".members__item").all_inner_texts()
    assert any("SITI AMINAH" in m for m in members)
    assert all(" tahun" in m for m in members)
    assert INSTRUCTIONS in o.main_text()
    assert FLOOR in o.page.locator(".checklist").inner_text()

    # 3. in the field: part of the checklist, a first note, a ~4 MB phone photo; save
    assert 3_000_000 < photos["rumah"].stat().st_size < 5_000_000
    o.choose("Ya", group=FLOOR)
    o.choose("Ya", group=ASSETS)
    o.fill("Jelaskan apa yang Anda lihat dan dengan siapa Anda berbicara", FIRST_NOTE)
    o.page.get_by_label("Foto (tidak wajib)").set_input_files(photos["rumah"])
    o.submit("Simpan draf", "draft-saved", exact=True)
    assert "Draf disimpan." in o.notices()
    seen["draft"] = o.page.content()

    # ...leaves the page, and comes back later
    o.follow("Pemeriksaan lapangan (verval)", "verval-list", exact=True)
    row = o.page.locator(".check-list li", has_text=ticket).inner_text()
    assert "draf tersimpan" in row
    o.follow(f"{ticket} · INC-MAMPU", "task-again")
    assert "1 foto tersimpan bersama draf ini." in o.notices()
    label = "Jelaskan apa yang Anda lihat dan dengan siapa Anda berbicara"
    assert o.page.get_by_label(label, exact=True).input_value() == FIRST_NOTE
    floor = o.page.get_by_role("group", name=FLOOR).get_by_label("Ya", exact=True)
    assert floor.is_checked()

    # 4. finish and send
    o.choose("Ya", group=NEIGHBOURS)
    o.choose("Terbukti: laporan sesuai kenyataan")
    o.fill(label, FINDING)
    o.submit("Kirim hasil pemeriksaan", "verval-done", exact=True)
    assert "Terima kasih. Petugas sekarang dapat melihat hasil pemeriksaan Anda." in o.notices()
    o.follow("Yang sudah saya kirim", "history", exact=True)
    history = o.page.locator(".history__item", has_text=ticket).inner_text()
    assert "Terbukti: laporan sesuai kenyataan" in history
    assert FIRST_NOTE in history
    assert "dikirim pada" in history
    seen["history"] = o.page.content()

    v.visit(case_path, "finding")
    answers = v.page.locator(".checklist-answers").inner_text()
    assert FLOOR in answers
    assert "Tidak dijawab" in answers  # what the operator left open says so
    photo = v.page.get_by_role("img", name="Foto 1 (pemeriksaan lapangan)")
    assert photo.count() == 1  # the photo of the draft went with the result

    # 5. the reporter: on no page the operator reaches. The pages named here, then every
    # staff page (and file) linked from any page reached, followed with the operator's session
    for path in ("/staf/", "/staf/verval", task_path, "/staf/riwayat-verval", case_path):
        o.visit(path, "reporter-check")
        seen[path] = o.page.content()
    seen.update(crawl_staff_pages(o, stack, list(seen.values())))
    assert {"/staf/cari", "/staf/bantu-ajukan", case_path} <= seen.keys(), sorted(seen)
    filer = stack.demo["partly"]
    for name, html in seen.items():
        for secret in (filer["nik"], filer["no_kk"], FILER_PHONE, FILER_PHONE[-9:]):
            assert secret not in html, f"{name} shows the filer ({secret[:4]}...)"

    # 6. the verifikator decides on the finding (one household may have only
    # APPEAL_MAX_OPEN_PER_SUBJECT open cases, and test_staff files the next one about it)
    v.visit(case_path, "decide")
    v.choose("Setuju: usulkan keluar dari bansos", group="Keputusan")
    v.select("Alasan", "Terbukti dari pemeriksaan lapangan (verval)")
    v.fill("Penjelasan untuk warga", "Pemeriksaan lapangan membenarkan laporan Anda.")
    v.submit("Simpan keputusan", "decided", exact=True)
    assert "Keputusan disimpan." in v.notices()


def crawl_staff_pages(phone: Phone, stack: Stack, pages: list[str], limit: int = 150) -> dict:
    """Every /staf/ address linked (a href, img src) from PAGES and from the pages they lead
    to, fetched with the phone's session: {path: body text}. Sign-out is a form, not a link."""
    link = re.compile(r'(?:href|src)="(/staf/[^"#]*)"')
    found: dict[str, str] = {}
    queue = [path for html in pages for path in link.findall(html)]
    while queue and len(found) < limit:
        path = html_unescape(queue.pop(0))
        if path in found:
            continue
        answer = phone.context.request.get(stack.url + path, max_redirects=0)
        assert answer.status < 500, f"{path}: HTTP {answer.status}"
        body = answer.body().decode("utf-8", "replace")
        found[path] = body
        if answer.headers.get("content-type", "").startswith("text/html"):
            queue.extend(link.findall(body))
    assert len(found) < limit, "the crawl did not end: a page links to endless addresses"
    return found
