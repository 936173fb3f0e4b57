"""Riwayat pengecekan on a phone (issue 13, "Done when"): a citizen files a sanggahan about
a demo household of Desa Sagara Makmur, the verifikator opens the case, and a member of that
household, looking up its own family card, sees the officer's view in its access record, by
kind of office, never by name."""

from __future__ import annotations

from typing import Any

from e2e.journeys import Officer, enrol
from e2e.stack import STAFF, Stack
from e2e.test_staff import PASSWORDS, enrolment_path, file_sanggahan_in_sagara, find_in_queue

RECORD_LINK = "Riwayat pengecekan: siapa yang melihat data keluarga Anda"


def test_a_family_sees_the_officer_who_opened_its_case(phone_factory: Any, stack: Stack) -> None:
    email, name, role, _region = next(s for s in STAFF if s[2] == "verifikator")
    officer = Officer(phone_factory("access-verifikator"), email, name, role, PASSWORDS[role])
    enrol(officer, enrolment_path(stack, officer))

    filer = phone_factory("access-filer")
    ticket = file_sanggahan_in_sagara(filer, stack)
    find_in_queue(officer.phone, ticket)  # the case page, with the household in DTSEN

    family = phone_factory("access-family")
    reported = stack.demo["receiving"]
    family.visit("/", "form")
    family.fill("NIK", reported["nik"])
    family.fill("No. KK", reported["no_kk"])
    family.submit("Cek status saya", "result")
    family.follow(RECORD_LINK, "access-record", exact=True)

    assert family.h1() == RECORD_LINK
    lines = family.page.locator(".access-line").all_inner_texts()
    officer_lines = [t for t in lines if "Dinsos Kabupaten Bekasi — verifikator" in t]
    assert officer_lines, lines
    # the case page (and the queue, which lists the case with the head's name)
    opened = [t for t in officer_lines if "Membuka sanggahan atau usulan tentang keluarga" in t]
    assert opened, officer_lines
    assert "WIB" in opened[0]
    assert any("Anda / keluarga Anda (situs ini)" in t for t in lines), lines
    page = family.page.content()
    for secret in (name, email, reported["nik"], reported["no_kk"]):
        assert secret not in page, f"{secret!r} on the access record"

    # a look-up that found nothing has no record: the result page says so instead
    stranger = phone_factory("access-stranger")
    unknown = stack.demo["unknown"]
    stranger.visit("/", "form")
    stranger.fill("NIK", unknown["nik"])
    stranger.fill("No. KK", unknown["no_kk"])
    stranger.submit("Cek status saya", "not-found")
    assert stranger.page.get_by_role("link", name=RECORD_LINK).count() == 0
    stranger.visit("/hasil/riwayat", "no-record")
    assert "tidak ditemukan" in stranger.h1()
    assert stranger.page.locator(".access-line").count() == 0
