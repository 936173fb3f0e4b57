"""Filing a case through HTTP, one question per page, as a phone browser without JavaScript:
every reason code to a receipt, the evidence each code asks about, who may file, answers
kept across reloads, no skipping ahead, the check page, and refusals of bad input (a 303
back to the GET of the page, which shows the errors: Post/Redirect/Get)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from portal.appeals import tickets
from portal.appeals.reasons import REASONS, Kind
from portal.core.nik import mask_nik
from tests.appeals.conftest import (
    JAKARTA,
    NOTE,
    answers_for,
    due_text,
    load_case,
    path_of,
    post_on,
    walk,
)
from tests.fixtures.factories import DESA
from tests.helpers import Client, Page

SANGGAHAN = [c for c, r in REASONS.items() if r.kind is Kind.SANGGAHAN]
TICKET_SHAPE = re.compile(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")


def kind_of(code: str) -> str:
    return REASONS[code].kind.value


def checked(page: Page, name: str) -> list[str]:
    return [i["value"] for i in page.soup.find_all("input", attrs={"name": name, "checked": True})]


def send(client: Client, url: str, data: dict) -> Page:
    """POST like a browser and follow the redirect, as a browser shows the page after it."""
    return client.post_form(url, data, follow_redirects=True)


def assert_error_on(page: Page, field_id: str, message: str) -> None:
    assert [r.status_code for r in page.redirects] == [303], "a refused POST redirects to a GET"
    assert page.status == 200
    assert page.soup.title.get_text().startswith("Error")
    links = {a["href"]: a.get_text(" ", strip=True) for a in page.soup.select(".error-summary a")}
    assert f"#{field_id}" in links, f"no error linked to #{field_id}: {links}"
    assert message in links[f"#{field_id}"]
    assert page.soup.find(id=field_id), f"the summary links to #{field_id}, which is not there"


# --- every reason code, to a receipt --------------------------------------------------------


@pytest.mark.parametrize("code", list(REASONS))
def test_each_reason_code_is_filed_through_its_pages_and_gets_a_receipt(
    client: Client, app, world, file_case, code: str
) -> None:
    ticket = file_case(client, kind_of(code), answers_for(world, code))

    assert TICKET_SHAPE.fullmatch(ticket)
    tickets.normalise(ticket)  # the check character fits
    receipt = client.page("/tanda-terima")
    assert "Your case was received" in receipt.h1
    assert str(REASONS[code].title) in receipt
    assert "What happens next" in receipt
    assert f"Decision due by {due_text()}" in receipt
    assert f"They decide by {due_text()}" in receipt
    assert receipt.soup.find("a", href="/lacak")

    case = load_case(app, ticket)
    assert (case.kind, case.reason_code, case.status) == (kind_of(code), code, "diterima")
    assert case.due_at - case.created_at == timedelta(days=14)
    assert case.due_at.astimezone(JAKARTA).date() - case.created_at.astimezone(
        JAKARTA
    ).date() == timedelta(days=14)
    assert case.filer_verified is (code != "EXC-TIDAK-TERDATA")
    assert (case.kabupaten_code, case.kode_desa) == ("32.16", DESA)
    assert case.declared is True
    assert [(e.from_status, e.to_status, e.actor) for e in case.events] == [
        (None, "diterima", "filer")
    ]


@pytest.mark.parametrize("whose", ["other", "own"])
def test_sanggahan_records_whose_household_it_is_about(
    client: Client, app, world, file_case, whose: str
) -> None:
    answers = answers_for(world, "INC-MENINGGAL")
    if whose == "own":  # a member of the filer's own family died
        answers["subjek"] = {"whose": "own", "subject_nik": ""}
    ticket = file_case(client, "sanggahan", answers)

    case = load_case(app, ticket)
    about = world.other if whose == "other" else world.filer
    assert case.subject_is_filer_household is (whose == "own")
    assert case.subject_nik == about.members[0].nik
    assert case.subject_found is True
    assert (case.note, case.evidence) == (NOTE, ["death_certificate"])


# --- the evidence checklist fits the code ---------------------------------------------------


@pytest.mark.parametrize("code", SANGGAHAN)
def test_details_page_offers_exactly_the_evidence_of_the_reason(
    client: Client, world, code: str
) -> None:
    walk(client, "sanggahan", answers_for(world, code), stop_at="rincian")

    page = client.page("/sanggahan/rincian")

    offered = [i["value"] for i in page.soup.find_all("input", attrs={"name": "evidence"})]
    assert offered == [value for value, _label in REASONS[code].evidence]


@pytest.mark.parametrize(
    ("code", "shown", "not_shown"),
    [
        ("INC-MENINGGAL", "Death certificate (akta kematian)", "I know where they work"),
        ("INC-ASN", "I know where they work", "Death certificate (akta kematian)"),
        ("EXC-DICORET", "My NIK may have been used by someone else", "Birth certificate"),
    ],
)
def test_details_page_names_the_documents_that_fit(
    client: Client, world, code: str, shown: str, not_shown: str
) -> None:
    walk(client, "sanggahan", answers_for(world, code), stop_at="rincian")
    page = client.page("/sanggahan/rincian")
    assert shown in page
    assert not_shown not in page


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/sanggahan?alasan=EXC-DICORET", "EXC-DICORET"),
        ("/sanggahan?alasan=EXC-DESIL-SALAH", "EXC-DESIL-SALAH"),
        ("/usulan?alasan=USUL-PROGRAM", "USUL-PROGRAM"),
        ("/usulan?alasan=EXC-TIDAK-TERDATA", "EXC-TIDAK-TERDATA"),
        ("/usulan?alasan=INC-BOGUS", None),
    ],
)
def test_links_from_the_lookup_result_preselect_the_reason(
    client: Client, url: str, code: str | None
) -> None:
    start = client.page(url)  # the start page: what to prepare, then "Start"
    page = client.page(start.soup.select_one("main a.button")["href"])
    assert checked(page, "reason") == ([code] if code else [])


# --- who may file ---------------------------------------------------------------------------


def test_household_missing_from_dtsen_can_be_proposed_by_a_filer_missing_from_dtsen(
    client: Client, app, world, file_case
) -> None:
    answers = answers_for(world, "EXC-TIDAK-TERDATA")
    walk(client, "usulan", answers)
    check = client.page("/usulan/periksa")
    assert "Not found in DTSEN: staff will take this into account" in check

    ticket = file_case(client, "usulan", answers)

    case = load_case(app, ticket)
    assert case.filer_verified is False
    assert case.subject_found is False


@pytest.mark.parametrize("code", [c for c in REASONS if c != "EXC-TIDAK-TERDATA"])
def test_other_codes_refuse_a_filer_not_in_dtsen_on_the_no_kk_field(
    client: Client, world, code: str
) -> None:
    kind = kind_of(code)
    walk(client, kind, answers_for(world, code), stop_at="pelapor")
    nik, kk = world.stranger

    page = send(client, f"/{kind}/pelapor", {"nik": nik, "no_kk": kk})

    assert_error_on(page, "no_kk", "We could not find this NIK with this No. KK in DTSEN")
    assert page.path == f"/{kind}/pelapor"
    assert client.get(f"/{kind}/periksa").headers["Location"].endswith(f"/{kind}/pelapor")


def test_heir_must_be_on_the_family_card_of_the_recipient(client: Client, world) -> None:
    walk(client, "usulan", answers_for(world, "USUL-AHLI-WARIS"), stop_at="ahli-waris")

    page = send(
        client,
        "/usulan/ahli-waris",
        {"deceased_nik": world.filer.members[0].nik, "heir_nik": world.other.members[0].nik},
    )

    assert_error_on(page, "heir_nik", "Both people must be on the same family card in DTSEN")


def test_heir_must_be_another_person_than_the_recipient(client: Client, world) -> None:
    walk(client, "usulan", answers_for(world, "USUL-AHLI-WARIS"), stop_at="ahli-waris")
    nik = world.filer.members[0].nik

    page = send(client, "/usulan/ahli-waris", {"deceased_nik": nik, "heir_nik": nik})

    assert_error_on(page, "heir_nik", "The heir must be a different person.")


# --- answers are kept, no skipping ahead ----------------------------------------------------


def masked(number: str) -> str:
    return f"{number[:4]} •••• •••• {number[-4:]}"


def test_answers_survive_a_reload_and_numbers_come_back_masked_only(client: Client, world) -> None:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    subject_nik = world.other.members[0].nik

    assert checked(client.page("/sanggahan/alasan"), "reason") == ["INC-MAMPU"]
    subject = client.page("/sanggahan/subjek")
    assert checked(subject, "whose") == ["other"]
    assert subject.soup.find("input", attrs={"name": "subject_nik"}) is None
    assert subject.soup.find("input", attrs={"name": "subject_nik-keep", "type": "hidden"})
    assert masked(subject_nik) in subject
    details = client.page("/sanggahan/rincian")
    assert checked(details, "evidence") == ["house"]
    assert details.soup.find("textarea", attrs={"name": "note"}).get_text().strip() == NOTE
    filer = client.page("/sanggahan/pelapor")
    for name, number in (("nik", world.filer_nik), ("no_kk", world.filer.no_kk)):
        assert filer.soup.find("input", attrs={"name": name}) is None
        assert masked(number) in filer
        for shown in (number, " ".join(number[i : i + 4] for i in range(0, 16, 4))):
            assert shown not in filer.text
    contact = client.page("/sanggahan/kontak")
    assert contact.soup.find("input", attrs={"name": "phone"})["value"] == "+6281234567890"


@pytest.mark.parametrize(
    ("answered", "requested", "lands_on"),
    [
        ([], "rincian", "alasan"),
        ([], "periksa", "alasan"),
        ([], "foto", "alasan"),
        (["alasan"], "rincian", "pelapor"),
        (["alasan", "pelapor"], "kontak", "subjek"),
        (["alasan", "pelapor", "subjek"], "periksa", "rincian"),
    ],
)
def test_skipping_ahead_redirects_to_the_first_unanswered_step(
    client: Client, world, answered: list[str], requested: str, lands_on: str
) -> None:
    answers = answers_for(world, "INC-MAMPU")
    for slug in answered:
        assert client.post_form(f"/sanggahan/{slug}", answers[slug]).status == 302

    response = client.get(f"/sanggahan/{requested}")

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/sanggahan/{lands_on}"


def test_usulan_for_an_heir_skips_the_program_and_situation_pages(client: Client, world) -> None:
    walk(client, "usulan", answers_for(world, "USUL-AHLI-WARIS"))
    response = client.get("/usulan/program")
    assert urlsplit(response.headers["Location"]).path != "/usulan/program"
    keys = client.page("/usulan/periksa").texts(".summary__key")
    assert "Recipient and heir" in keys
    assert "Programs" not in keys
    assert "The household's situation" not in keys


# --- the check-answers page -----------------------------------------------------------------


def test_check_page_lists_every_answer_with_masked_numbers_and_change_links(
    client: Client, world
) -> None:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))

    page = client.page("/sanggahan/periksa")

    keys = page.texts(".summary__key")
    assert keys == [
        "What is your sanggahan about?",
        "Who is filing",
        "Whose data is it about?",
        "Tell us what you know",
        "Photos",
        "How can an officer reach you?",
    ]
    for masked in (mask_nik(world.filer_nik), mask_nik(world.other.members[0].nik)):
        assert masked in page
    for shown in ("A recipient is clearly well-off", "A large or well-built house", NOTE):
        assert shown in page
    assert "+6281234567890" in page
    links = [a["href"] for a in page.soup.select(".summary__action a")]
    assert len(links) == len(keys)
    assert all("return=check" in href for href in links)


@pytest.mark.parametrize(
    ("slug", "data"),
    [
        ("rincian", {"evidence": ["vehicle"], "note": "Punya dua mobil dan toko bangunan."}),
        ("kontak", {"phone": "", "email": "warga@example.com"}),
        ("foto", {"action": "continue"}),
    ],
)
def test_change_link_returns_to_the_check_page(client: Client, world, slug, data) -> None:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    check = client.page("/sanggahan/periksa")
    href = next(
        a["href"] for a in check.soup.select(".summary__action a") if f"/{slug}?" in a["href"]
    )
    question = client.page(href)
    assert question.soup.find("input", attrs={"name": "return", "value": "check"})

    answered = post_on(client, question, {**data, "return": "check"})

    assert answered.status == 302
    assert path_of(answered) == "/sanggahan/periksa"


def test_changing_the_reason_drops_the_answers_that_depended_on_it(client: Client, world) -> None:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))

    changed = client.post_form("/sanggahan/alasan?return=check", {"reason": "INC-SELF"})

    assert changed.status == 302
    resumed = client.get("/sanggahan/periksa")
    assert urlsplit(resumed.headers["Location"]).path == "/sanggahan/rincian"
    details = client.page("/sanggahan/rincian")
    assert details.soup.find("textarea", attrs={"name": "note"}).get_text().strip() == ""
    assert checked(details, "evidence") == []
    assert (
        client.post_form("/sanggahan/rincian", answers_for(world, "INC-SELF")["rincian"]).status
        == 302
    )
    keys = client.page("/sanggahan/periksa").texts(".summary__key")
    assert "Whose data is it about?" not in keys  # INC-SELF is always about the filer
    assert "Who is filing" in keys
    assert "How can an officer reach you?" in keys


# --- bad input: 400 with an error summary linking to the field, never a 500 -----------------

LONG_NOTE = "x" * 2001
BAD_INPUT = [
    ("INC-MAMPU", "alasan", {}, "reason", "Choose what your case is about."),
    ("INC-MAMPU", "alasan", {"reason": "INC-BOGUS"}, "reason", "Choose one of the options"),
    ("INC-MAMPU", "pelapor", {"nik": "", "no_kk": ""}, "nik", "Enter the NIK"),
    ("INC-MAMPU", "pelapor", {"nik": "", "no_kk": ""}, "no_kk", "Enter the No. KK"),
    ("INC-MAMPU", "pelapor", {"nik": "12345", "no_kk": "x"}, "nik", "exactly 16 digits"),
    ("INC-MAMPU", "subjek", {}, "whose", "Choose whose data it is about."),
    ("INC-MAMPU", "subjek", {"whose": "neighbour"}, "whose", "Choose one of the options"),
    ("INC-MAMPU", "subjek", {"whose": "other"}, "subject_name", "Enter the name of the person"),
    ("INC-MAMPU", "subjek", {"whose": "other"}, "subject_alamat", "Enter the address"),
    ("INC-MAMPU", "subjek", {"whose": "other"}, "desa", "Choose the desa or kelurahan."),
    ("INC-MAMPU", "subjek", {"whose": "other", "subject_rt": "x1"}, "subject_rt", "as a number"),
    ("INC-MAMPU", "subjek", {"whose": "other", "subject_nik": "123"}, "subject_nik", "16 digits"),
    ("INC-MAMPU", "rincian", {"note": ""}, "note", "Describe the situation"),
    ("INC-MAMPU", "rincian", {"note": LONG_NOTE}, "note", "Write between 10 and 2000"),
    ("INC-MAMPU", "rincian", {"evidence": "gold", "note": NOTE}, "evidence", "Choose one of"),
    ("INC-MAMPU", "kontak", {"phone": "12345"}, "phone", "Enter a mobile number"),
    ("INC-MAMPU", "kontak", {"email": "warga@"}, "email", "Enter an e-mail address"),
    ("USUL-PROGRAM", "rumah-tangga", {"alamat": ""}, "alamat", "Enter the address"),
    ("USUL-PROGRAM", "rumah-tangga", {"alamat": "x" * 201}, "alamat", "at most 200"),
    ("USUL-PROGRAM", "desa", {"desa": ""}, "desa", "Choose the desa or kelurahan."),
    ("USUL-PROGRAM", "desa", {"desa": "99.99.99.9999"}, "desa", "Choose one of the options"),
    ("USUL-PROGRAM", "program", {}, "programs", "Choose at least one program."),
    ("USUL-PROGRAM", "program", {"programs": "BLT"}, "programs", "Choose one of the options"),
    # given after a social worker's assessment, not by usulan (the result page says so)
    ("USUL-PROGRAM", "program", {"programs": "ATENSI"}, "programs", "Choose one of the options"),
    ("USUL-PROGRAM", "kondisi", {"work": "casual"}, "income", "Choose one answer."),
    ("USUL-PROGRAM", "kondisi", {"work": "pilot"}, "work", "Choose one of the options"),
]


@pytest.mark.parametrize(("code", "slug", "data", "field_id", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_a_summary_linking_to_the_field(
    client: Client, world, code: str, slug: str, data: dict, field_id: str, message: str
) -> None:
    kind = kind_of(code)
    answers = answers_for(world, code)
    walk(client, kind, answers, stop_at=slug)
    if slug == "rumah-tangga":
        data = {**answers[slug], **data}

    page = send(client, f"/{kind}/{slug}", data)

    assert_error_on(page, field_id, message)
    assert page.path == f"/{kind}/{slug}"


def test_check_page_without_the_declaration_is_refused(client: Client, world) -> None:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    page = send(client, "/sanggahan/periksa", {"declaration": ""})
    assert_error_on(page, "declaration", "Confirm that what you wrote is true.")
    assert page.path == "/sanggahan/periksa"


def test_post_without_csrf_token_is_refused_and_starts_nothing(client: Client, world) -> None:
    response = client.post("/sanggahan/alasan", data={"reason": "INC-MAMPU"})

    assert response.status_code == 303
    page = client.page(response.headers["Location"])
    assert "For your security, a form can only be sent for a few hours" in page
    assert checked(page, "reason") == ["INC-MAMPU"], "the answer was not kept"
    assert urlsplit(client.get("/sanggahan/pelapor").headers["Location"]).path == (
        "/sanggahan/alasan"
    )
