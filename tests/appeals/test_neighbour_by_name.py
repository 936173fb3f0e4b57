"""Reporting another household by name (issue 10, item 3): a neighbour rarely knows a NIK, so
the subjek page asks for the name, the address with RT/RW and the desa (the same picker as
the usulan's, searching the filer's kabupaten first); the NIK is optional. The case goes to
the staff of the desa named, or of the area where DTSEN has a NIK that was given; the
reported name never appears on a page the reported household or a later visitor can open."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from portal.appeals.states import AppealStatus
from portal.forms import grouped
from tests.appeals.conftest import (
    answers_for,
    decide,
    load_case,
    path_of,
    post_on,
    submit,
    track,
    walk,
)
from tests.fixtures.factories import DESA
from tests.helpers import Client, Page

BUNIBAKTI = "32.16.02.2001"  # Kecamatan Babelan, Kabupaten Bekasi
KOTA_BEKASI_DESA = "32.75.01.1001"  # Bekasijaya, Kota Bekasi: another kabupaten/kota
NAME = "Haji Rahmat Hidayat"


def by_name(world: Any, code: str = "INC-MAMPU", **subject: Any) -> dict[str, dict[str, Any]]:
    """Answers reporting another household by name only (no NIK), in Bunibakti."""
    answers = answers_for(world, code)
    answers["subjek"] = {
        "whose": "other",
        "subject_name": NAME,
        "subject_alamat": "KP. BUNI, rumah cat hijau",
        "subject_rt": "3",
        "subject_rw": "12",
        "desa": BUNIBAKTI,
        **subject,
    }
    return answers


def file(client: Client, answers: dict[str, dict[str, Any]]) -> str:
    walk(client, "sanggahan", answers)
    sent = submit(client, "sanggahan")
    assert sent.status == 302, sent.error_summary()
    return client.page("/tanda-terima").texts(".ticket")[0]


def subject_page(client: Client, world: Any, code: str = "INC-MAMPU") -> Page:
    walk(client, "sanggahan", answers_for(world, code), stop_at="subjek")
    return client.page("/sanggahan/subjek")


def shown_again(client: Client, page: Page, data: dict[str, Any]) -> Page:
    """Send the form of PAGE with DATA when it does not move on (a search, a refused
    answer): 303 to the GET of the same page (Post/Redirect/Get), shown with status 200."""
    sent = post_on(client, page, data)
    assert sent.status == 303, (sent.status, sent.error_summary())
    location = sent.response.headers["Location"]
    assert urlsplit(location).path == page.path, location
    return client.page(location)


# --- the page -------------------------------------------------------------------------------


def test_the_subject_page_asks_for_name_address_rt_rw_and_desa_with_the_nik_optional(
    client: Client, world
) -> None:
    page = subject_page(client, world)

    labels = page.texts(".field__label, .fieldset__legend")
    assert labels == [
        "Whose data is it about?",
        "Name of the person it is about",
        "Their address",
        "RT",
        "RW",
        "Search for a desa or kelurahan by name",
        "Desa or kelurahan where they live",
        "NIK of the person it is about (optional)",
    ]
    assert "Desa in Kecamatan Tarumajaya, where your family card is from." in page
    assert len(page.soup.select("main form")) == 1


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_subject_page_asks_whose_data_once(client: Client, world, lang: str) -> None:
    """The question is the page's heading; the choices' fieldset keeps it as its legend for
    screen readers, visually hidden, so it is not printed twice."""
    page = subject_page(client, world)
    if lang == "id":
        page = client.page("/sanggahan/subjek?lang=id")

    legend = page.soup.select_one("fieldset:has(input[name=whose]) > legend")
    assert legend is not None
    assert legend.get_text(strip=True) == page.h1
    assert "visually-hidden" in legend["class"]
    visible = [
        el
        for el in page.soup.main.find_all(string=page.h1)
        if not el.find_parent(class_="visually-hidden") and el.parent.name != "title"
    ]
    assert len(visible) == 1


@pytest.mark.parametrize(
    "code", ["INC-ASN", "INC-MAMPU", "INC-MENINGGAL", "INC-PINDAH", "INC-GANDA"]
)
def test_a_neighbour_reported_by_name_without_nik_is_filed_to_the_named_desa(
    client: Client, app, world, code: str
) -> None:
    ticket = file(client, by_name(world, code))

    case = load_case(app, ticket)
    assert (case.kabupaten_code, case.kecamatan_code, case.kode_desa) == (
        "32.16",
        "32.16.02",
        BUNIBAKTI,
    )
    assert (case.subject_name, case.subject_alamat) == (NAME, "KP. BUNI, rumah cat hijau")
    assert (case.subject_rt, case.subject_rw, case.subject_kode_desa) == ("003", "012", BUNIBAKTI)
    assert case.subject_nik is None
    assert case.subject_nik_hmac is None
    assert case.subject_kk_hmac is None
    assert case.subject_found is False
    assert case.subject_is_filer_household is False
    assert case.evidence == [by_name(world, code)["rincian"]["evidence"][0]]


def test_a_neighbour_in_another_kabupaten_goes_to_that_dinsos_after_confirming(
    client: Client, app, world
) -> None:
    answers = by_name(world, desa=KOTA_BEKASI_DESA)
    walk(client, "sanggahan", answers, stop_at="subjek")

    refused = shown_again(client, client.page("/sanggahan/subjek"), answers["subjek"])
    assert refused.error_summary() == [
        "Tick the box if this is the right desa, or choose another desa."
    ]
    assert refused.texts(".notice--warning > p") == [
        "Bekasijaya is in Kota Bekasi, but your family card is from Kabupaten Bekasi."
    ]

    answers["subjek"]["desa_confirm"] = "y"
    case = load_case(app, file(client, answers))
    assert (case.kabupaten_code, case.kode_desa) == ("32.75", KOTA_BEKASI_DESA)


def test_a_nik_found_in_dtsen_links_the_household_and_routes_to_its_desa(
    client: Client, app, world
) -> None:
    """Anyone could type any NIK next to a desa of their choice: DTSEN's desa decides, and
    staff see that the filer named another one."""
    reported = world.other  # lives in DESA (Sagara Makmur)
    ticket = file(client, by_name(world, subject_nik=reported.members[0].nik))

    case = load_case(app, ticket)
    assert case.subject_found is True
    assert case.kode_desa == DESA
    assert case.subject_kode_desa == BUNIBAKTI
    assert case.details["desa_mismatch"] == {"chosen": BUNIBAKTI, "dtsen": DESA}
    assert case.subject_nik == reported.members[0].nik
    assert case.subject_kk_hmac is not None


def test_a_nik_not_in_dtsen_still_goes_to_the_named_desa(client: Client, app, world) -> None:
    stranger_nik, _kk = world.stranger
    case = load_case(app, file(client, by_name(world, subject_nik=stranger_nik)))
    assert (case.kode_desa, case.subject_found, case.subject_kk_hmac) == (BUNIBAKTI, False, None)


def test_own_household_ignores_what_was_typed_about_another(client: Client, app, world) -> None:
    answers = answers_for(world, "INC-MAMPU")
    answers["subjek"] = {"whose": "own", "subject_name": "x", "subject_rt": "abc", "desa": "1"}
    case = load_case(app, file(client, answers))
    assert case.subject_is_filer_household is True
    assert (case.subject_name, case.subject_rt, case.subject_kode_desa) == (None, None, None)


# --- one form: searching keeps what was typed -----------------------------------------------


def test_pressing_search_keeps_the_other_answers_on_the_page(client: Client, world) -> None:
    page = subject_page(client, world)
    stranger_nik, _kk = world.stranger  # a valid NIK: the optional box is kept too
    typed = {
        "whose": "other",
        "subject_name": NAME,
        "subject_alamat": "KP. BUNI, rumah cat hijau",
        "subject_rt": "3",
        "subject_rw": "12",
        "subject_nik": stranger_nik,
    }

    found = shown_again(client, page, {**typed, "desa_q": "bunibakti", "action": "search"})
    refreshed = client.page(found.response.request.full_path)  # a GET again, never the POST

    for shown in (found, refreshed):
        assert not shown.error_summary()
        soup = shown.soup
        assert soup.find("input", attrs={"name": "whose", "value": "other", "checked": True})
        assert soup.find("input", attrs={"name": "subject_name"})["value"] == NAME
        assert soup.find("textarea", attrs={"name": "subject_alamat"}).get_text(strip=True) == (
            "KP. BUNI, rumah cat hijau"
        )
        assert soup.find("input", attrs={"name": "subject_rt"})["value"] == "3"
        assert soup.find("input", attrs={"name": "subject_rw"})["value"] == "12"
        assert soup.find("input", attrs={"name": "subject_nik"})["value"] == grouped(stranger_nik)
        assert " ".join(shown.texts(".desa-picker__count")) == "1 desa found in Kabupaten Bekasi."
        assert [i["value"] for i in soup.select("input[name=desa]")] == [BUNIBAKTI]

    chosen = post_on(
        client,
        found,
        {
            **typed,
            "subject_nik": grouped(stranger_nik),  # as the box shows it
            "desa_q": "bunibakti",
            "desa": BUNIBAKTI,
        },
    )
    assert chosen.status == 302, chosen.error_summary()
    assert path_of(chosen) == "/sanggahan/rincian"


# --- check answers and privacy --------------------------------------------------------------


def test_check_answers_show_the_name_as_the_filer_typed_it(client: Client, world) -> None:
    """The filer checks the spelling of what they typed before sending: their own answer,
    shown to the browser that typed it (a name from DTSEN data would stay masked)."""
    walk(client, "sanggahan", by_name(world, subject_name="Pak Hendra"))
    page = client.page("/sanggahan/periksa")

    rows = dict(zip(page.texts(".summary__key"), page.texts(".summary__value"), strict=True))
    assert rows["Whose data is it about?"] == (
        "Another household Name: Pak Hendra "
        "Address: KP. BUNI, rumah cat hijau RT 003/RW 012 "
        "Bunibakti, Babelan, Kabupaten Bekasi NIK not given"
    )
    assert "P*** H*****" not in page.text


def test_the_check_page_is_shown_only_to_the_browser_that_typed_the_answers(
    client: Client, app, world
) -> None:
    walk(client, "sanggahan", by_name(world, subject_name="Pak Hendra"))
    assert "Pak Hendra" in client.page("/sanggahan/periksa")

    other: Client = app.test_client()  # type: ignore[assignment]
    other.choose_language("en")
    seen = Page(other.get("/sanggahan/periksa"))

    assert seen.status == 302
    assert path_of(seen) == "/sanggahan/alasan"  # no draft in this browser: start afresh
    assert "Hendra" not in Page(other.get("/sanggahan/periksa", follow_redirects=True)).text
    assert client.page("/sanggahan/periksa").response.headers["Cache-Control"] == "no-store"


def test_the_reported_name_and_address_never_reach_the_receipt_or_tracking_pages(
    client: Client, app, world
) -> None:
    ticket = file(client, by_name(world))
    pages = [client.page("/tanda-terima")]
    track(client, ticket, world.filer_nik)
    pages.append(client.page("/lacak/kasus"))
    decide(app, ticket, AppealStatus.DITOLAK)
    pages.append(client.page("/lacak/kasus"))

    for page in pages:
        for secret in ("Rahmat", "Hidayat", "KP. BUNI", "cat hijau"):
            assert secret not in page.text, f"{secret} on {page.response.request.path}"
