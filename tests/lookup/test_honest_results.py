"""Honest result pages (issue 10, item 8) and their wording (item 9), through POST "/".

Households are built member by member with ages counted back from today (Jakarta), so a
program's standing never depends on the day the suite runs. A snapshot always holds several
households, and each test asserts the exact household and programs shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.dataimport.demo import House, Member
from tests.fixtures.factories import DESA, Factory
from tests.helpers import Client, Page

JAKARTA = ZoneInfo("Asia/Jakarta")
ALL = ("PKH", "BPNT", "PBI-JK")


@dataclass(frozen=True)
class Person:
    age: int
    sex: str = "L"
    hubungan: str = "ANAK"
    programs: tuple[str, ...] = ()
    nama: str = "AHMAD FAUZI"
    birthday_in_days: int = 0  # 1: turns AGE tomorrow (AGE - 1 today)


def born_years_ago(years: int, days: int = 0) -> date:
    """A birth date that makes someone YEARS old today (their birthday is today), or born
    DAYS later (days=1: they turn YEARS tomorrow, so they are YEARS - 1 today)."""
    today = datetime.now(JAKARTA).date()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February: born the day after, still YEARS old tomorrow
        born = date(today.year - years, 3, 1)
    return born + timedelta(days=days)


def family(factory: Factory, desil: int, people: list[Person]) -> House:
    kec = DESA.rsplit(".", 1)[0]
    members = []
    for p in people:
        born = born_years_ago(p.age, p.birthday_in_days)
        members.append(
            Member(
                factory.numbers.nik(kec, born, p.sex),
                p.nama,
                p.sex,
                born,
                p.hubungan,
                list(p.programs),
            )
        )
    factory.count += 1
    return House(
        factory.numbers.kk(kec, date(2019, 5, 20)), DESA, "KP. SAGARA RT 002/RW 005", desil, members
    )


def parents(programs: tuple[str, ...] = ALL) -> list[Person]:
    return [
        Person(44, "L", "KEPALA KELUARGA", programs, "BUDI SANTOSO"),
        Person(40, "P", "ISTRI", programs, "SITI AMINAH"),
    ]


def look_up(client: Client, house: House, lang: str = "en") -> Page:
    client.choose_language(lang)
    return client.post_form(
        "/", {"nik": house.members[0].nik, "no_kk": house.no_kk}, status=200, follow_redirects=True
    )


def _code(item) -> str:  # type: ignore[no-untyped-def]
    name = item.select_one(".program__name").get_text(" ", strip=True)
    return name.replace("/", " ").replace("(", " ").replace(":", " ").split()[0]


def programs_shown(page: Page) -> dict[str, str]:
    """{program code: tag} of the 'Programs for desil N' list."""
    return {
        _code(item): item.select_one(".tag").get_text(" ", strip=True)
        for item in page.soup.select(".program")
    }


def notes(page: Page) -> dict[str, str]:
    """{program code: the note under it}, for programs that have one."""
    return {
        _code(item): item.select_one(".program__note").get_text(" ", strip=True)
        for item in page.soup.select(".program")
        if item.select_one(".program__note") is not None
    }


def next_step(page: Page) -> tuple[str, list[str]]:
    """The next-step heading and the `alasan` of each link in it."""
    section = page.soup.select_one(".next-step")
    assert section is not None
    links = [a["href"].split("alasan=")[-1] for a in section.find_all("a", href=True)]
    return section.h2.get_text(" ", strip=True), links


def main_buttons(page: Page) -> list[str]:
    return [a["href"] for a in page.soup.select("main a.button")]


def publish(factory: Factory, wanted: House, period: str = "2026Q3") -> None:
    """WANTED among other households (one of them receives everything)."""
    others = [
        family(factory, 1, [*parents(), Person(9, programs=(*ALL, "PIP", "ATENSI"))]),
        family(factory, 4, [*parents(()), Person(30)]),
    ]
    factory.publish(period, [others[0], wanted, others[1]])


# --- a receiving family with nothing to do --------------------------------------------------


def test_desil_1_family_receiving_four_programs_has_nothing_to_do(
    client: Client, factory: Factory
) -> None:
    """Only ATENSI is missing, and it is given after an assessment: no usulan button."""
    house = family(factory, 1, [*parents(), Person(10, programs=(*ALL, "PIP"))])
    publish(factory, house)

    page = look_up(client, house)

    assert page.h1 == "Your family is in DTSEN and receives bansos"
    assert page.texts(".member__programs") == [
        "Receiving: PKH, BPNT, PBI-JK",
        "Receiving: PKH, BPNT, PBI-JK",
        "Receiving: PKH, BPNT, PBI-JK, PIP",
    ]
    assert programs_shown(page) == {
        "PKH": "received",
        "BPNT": "received",
        "PBI-JK": "received",
        "PIP": "received",
        "ATENSI": "by assessment",
    }
    assert "pendamping PKH" in notes(page)["ATENSI"]
    assert next_step(page) == ("Nothing you need to do", ["ERR-DATA"])
    assert not [href for href in main_buttons(page) if "USUL-PROGRAM" in href]


def test_nothing_to_do_in_indonesian_says_sudah_menerima_never_diterima(
    client: Client, factory: Factory
) -> None:
    house = family(factory, 1, [*parents(), Person(10, programs=(*ALL, "PIP"))])
    publish(factory, house)

    page = look_up(client, house, "id")

    assert page.lang == "id"
    assert next_step(page)[0] == "Tidak ada yang perlu dilakukan"
    tags = list(programs_shown(page).values())
    assert tags == ["sudah menerima"] * 4 + ["lewat penilaian petugas"]
    text = page.soup.main.get_text(" ", strip=True)
    assert "diterima" not in text, "programs are 'sudah menerima', never 'diterima'"
    assert page.texts(".member__programs")[0] == "Sudah menerima: PKH, BPNT, PBI-JK"


# --- PIP applies only with someone of school age ----------------------------------------------


@pytest.mark.parametrize(
    "people",
    [
        [Person(4), Person(70, hubungan="ORANG TUA")],
        [Person(5, "P"), Person(22, "P")],  # one year short, one year past
        [Person(6, birthday_in_days=1)],  # turns 6 tomorrow
        [],  # parents only
    ],
    ids=["toddler-and-grandparent", "aged-5-and-22", "6-tomorrow", "no-children"],
)
def test_pip_does_not_apply_without_anyone_of_school_age(
    client: Client, factory: Factory, people: list[Person]
) -> None:
    extra = [
        Person(p.age, p.sex, p.hubungan, ALL, birthday_in_days=p.birthday_in_days) for p in people
    ]
    house = family(factory, 2, parents() + extra)
    publish(factory, house)

    page = look_up(client, house)

    assert programs_shown(page) == {
        "PKH": "received",
        "BPNT": "received",
        "PBI-JK": "received",
        "PIP": "does not apply to your family",
        "ATENSI": "by assessment",
    }
    assert notes(page)["PIP"] == (
        "Only for family members aged 6 to 21: nobody in your family is that age."
    )
    assert next_step(page)[0] == "Nothing you need to do"


@pytest.mark.parametrize(
    ("age", "sex", "later"),
    [(6, "L", 0), (6, "P", 0), (15, "P", 0), (21, "L", 0), (21, "P", 0), (22, "L", 1)],
    ids=["6", "6-woman", "15-woman", "21", "21-woman", "22-tomorrow"],
)
def test_pip_applies_with_one_member_of_school_age_and_can_be_proposed(
    client: Client, factory: Factory, age: int, sex: str, later: int
) -> None:
    """School age is 6 to 21 inclusive (women's NIKs carry day + 40: the age must not care)."""
    house = family(factory, 2, [*parents(), Person(age, sex, "ANAK", ALL, birthday_in_days=later)])
    publish(factory, house)

    page = look_up(client, house)

    assert programs_shown(page)["PIP"] == "not yet received"
    assert "PIP" not in notes(page)
    heading, links = next_step(page)
    assert heading == "What you can do"
    assert links == ["USUL-PROGRAM", "ERR-DATA"]


def test_in_scope_family_receiving_nothing_is_told_what_it_can_propose(
    client: Client, factory: Factory
) -> None:
    house = family(factory, 3, [*parents(()), Person(12, "P")])
    publish(factory, house)

    page = look_up(client, house)

    assert page.h1 == "Your family is in DTSEN, but the data shows no bansos"
    assert page.texts(".member__programs") == ["Not receiving a program yet in this period"] * 3
    assert programs_shown(page) == {
        "PKH": "not yet received",
        "BPNT": "not yet received",
        "PBI-JK": "not yet received",
        "PIP": "not yet received",
        "ATENSI": "by assessment",
    }
    assert next_step(page) == ("What you can do", ["USUL-PROGRAM", "ERR-DATA"])


# --- removed: what the family held in the last period it was in --------------------------------


def test_removed_family_sees_what_each_member_held_in_the_last_period(
    client: Client, factory: Factory
) -> None:
    gone = family(
        factory,
        2,
        [
            Person(50, "L", "KEPALA KELUARGA", ("PKH", "BPNT", "PBI-JK"), "BUDI SANTOSO"),
            Person(47, "P", "ISTRI", ("PKH", "BPNT"), "SITI AMINAH"),
            Person(12, "L", "ANAK", ("PIP",), "AHMAD FAUZI"),
            Person(3, "P", "CUCU", (), "SITI AMINAH"),
        ],
    )
    stays = family(factory, 2, [*parents()])
    factory.publish("2026Q2", [stays, gone])
    moved = family(factory, 5, parents(("BPNT",)))
    factory.publish("2026Q3", [moved, stays])

    page = look_up(client, gone)

    assert page.h1 == "Your family is not in the latest data"
    assert page.texts(".held h2") == ["What your family had in Q2 2026 (April-June)"]
    assert page.texts(".held__desil")[0].startswith("Desil 2 (poor), ")
    assert "Sagara Makmur" in page.texts(".held__desil")[0]
    assert page.texts(".member__name") == [
        "B*** S******",
        "S*** A*****",
        "A**** F****",
        "S*** A*****",
    ]
    assert page.texts(".member__programs") == [
        "Received: PKH, BPNT, PBI-JK",
        "Received: PKH, BPNT",
        "Received: PIP",
        "No program in that period",
    ]
    assert page.soup.select(".program") == []  # no "programs for desil" of a period it is not in
    assert [h for h in main_buttons(page) if "EXC-DICORET" in h]
    assert "BUDI" not in page.text
    assert "SANTOSO" not in page.text


def test_removed_page_in_indonesian_names_the_periods_in_words(
    client: Client, factory: Factory
) -> None:
    gone, stays = family(factory, 2, parents()), family(factory, 3, parents())
    factory.publish("2026Q2", [gone, stays])
    factory.publish("2026Q3", [stays])

    page = look_up(client, gone, "id")

    assert page.texts(".held h2") == ["Data dan bansos keluarga Anda pada Triwulan II 2026"]
    lead = page.texts(".lead")[0]
    assert "Triwulan II 2026" in lead
    assert "Triwulan III 2026" in lead
    assert "Data Triwulan III 2026, diperbarui pada" in page.texts(".period-note")[0]
    assert "2026Q" not in page.text


# --- periods in words, everywhere a citizen sees one ---------------------------------------------


@pytest.mark.parametrize(
    ("period", "english", "indonesian"),
    [
        ("2026Q1", "Q1 2026 (January-March)", "Triwulan I 2026"),
        ("2026Q2", "Q2 2026 (April-June)", "Triwulan II 2026"),
        ("2026Q3", "Q3 2026 (July-September)", "Triwulan III 2026"),
        ("2025Q4", "Q4 2025 (October-December)", "Triwulan IV 2025"),
    ],
)
def test_the_period_is_written_in_words_in_both_languages(
    client: Client, factory: Factory, period: str, english: str, indonesian: str
) -> None:
    house = family(factory, 2, parents())
    publish(factory, house, period)

    en, id_ = look_up(client, house, "en"), look_up(client, house, "id")

    assert en.texts(".period-note")[0].startswith(f"Data for {english}, updated on ")
    assert id_.texts(".period-note")[0].startswith(f"Data {indonesian}, diperbarui pada ")
    for page in (en, id_):
        assert period not in page.text, "a period code shown to a citizen"


def test_the_home_page_promises_the_access_record_the_result_links_to(
    client: Client, factory: Factory
) -> None:
    page = client.choose_language("en").page("/")
    text = page.soup.main.get_text(" ", strip=True)
    assert (
        "Every time your family's data is opened, here or by officers, it is recorded: when, "
        "and by which kind of office, never your numbers. After a check, your result links to "
        'this record ("Access record").'
    ) in text
    house = family(factory, 2, parents())
    publish(factory, house)
    result = look_up(client, house, "en")
    assert result.texts(".access-link a") == ["Access record: who looked at your family's data"]
    record = client.page(result.soup.select_one(".access-link a")["href"])
    assert record.texts(".access-line__who") == ["You or your family (this website)"]


def test_the_result_links_to_all_my_reports(client: Client, factory: Factory) -> None:
    house = family(factory, 2, parents())
    publish(factory, house)

    page = look_up(client, house, "id")

    link = page.soup.find("a", string="Lihat semua laporan saya")
    assert link is not None
    assert link["href"] == "/laporan-saya"


# --- the language: Indonesian whatever the phone says, English when chosen -----------------------


def test_a_phone_set_to_english_gets_the_result_in_indonesian(app, factory: Factory) -> None:
    house = family(factory, 2, parents())
    publish(factory, house)
    phone: Client = app.test_client()
    phone.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.9"

    page = phone.post_form(
        "/", {"nik": house.members[0].nik, "no_kk": house.no_kk}, status=200, follow_redirects=True
    )

    assert page.lang == "id"
    assert page.h1 == "Keluarga Anda terdaftar di DTSEN dan menerima bansos"


def test_english_chosen_with_the_switch_sticks_for_the_look_up_and_its_result(
    app, factory: Factory
) -> None:
    house = family(factory, 2, parents())
    publish(factory, house)
    phone: Client = app.test_client()
    phone.environ_base["HTTP_ACCEPT_LANGUAGE"] = "id-ID,id;q=0.9"

    assert phone.page("/?lang=en").lang == "en"
    form = phone.page("/")  # no ?lang: the choice is kept in the session
    page = phone.post_form(
        "/", {"nik": house.members[0].nik, "no_kk": house.no_kk}, status=200, follow_redirects=True
    )

    assert form.lang == "en"
    assert page.lang == "en"
    assert page.h1 == "Your family is in DTSEN and receives bansos"
