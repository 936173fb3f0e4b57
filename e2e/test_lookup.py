"""The look-up as a citizen does it: a 360 px phone, no JavaScript, Bahasa Indonesia, over
HTTPS through nginx, every outcome of the demo data."""

from __future__ import annotations

import pytest

from e2e.conftest import Phone
from e2e.stack import Stack

# The Indonesian headline of each outcome (translations/id).
OUTCOMES = {
    "receiving": "Keluarga Anda terdaftar di DTSEN dan menerima bansos",
    "partly": "Keluarga Anda terdaftar di DTSEN dan menerima bansos",
    "in_scope": "tidak menerima bansos",
    "above": "di atas sasaran",
    "removed": "Keluarga Anda tidak ada di data terbaru",
    "unknown": "tidak ditemukan",
    "mismatch": "tidak ditemukan",
}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_look_up_outcome_on_a_phone(phone: Phone, stack: Stack, outcome: str) -> None:
    pair = stack.demo[outcome]
    phone.name = f"lookup-{outcome}"
    phone.visit("/", "form")
    phone.fill("NIK", pair["nik"])
    phone.fill("No. KK", pair["no_kk"])

    phone.submit("Cek status saya", "result")

    assert OUTCOMES[outcome] in phone.h1()
    assert pair["nik"] not in phone.page.content()


def test_a_wrong_nik_is_explained_in_indonesian_and_nothing_is_echoed(phone: Phone) -> None:
    phone.name = "lookup-bad-input"
    phone.visit("/", "form")
    phone.fill("NIK", "12345")
    phone.fill("No. KK", "abc")
    phone.submit("Cek status saya", "errors")  # 303, then the form again with its errors
    assert "NIK harus terdiri dari 16 angka" in phone.page.locator(".error-summary").inner_text()
