"""A household removed in the last update can file the sanggahan its result page sends it to
(EXC-DICORET, issue 10 item 4): its filer is proven against the last period it was in, and
the pages say where it is registered ("terdaftar di Triwulan II 2026"). No other reason
accepts a pair that is only in an old period, and a "no" costs the same whatever is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask, g
from sqlalchemy import event

from portal.appeals import errors, filers
from portal.appeals.reasons import REASONS
from portal.dataimport.demo import House
from tests.appeals.conftest import NOTE, load_case, path_of, submit, walk
from tests.fixtures.factories import Factory
from tests.fixtures.worlds import KeptWorld
from tests.helpers import Client, Page

NOT_FOUND = "We could not find this NIK with this No. KK in DTSEN"


@dataclass
class Removal:
    gone: House  # in 2026Q2, not in 2026Q3 (the look-up's "removed")
    stays: House  # in both periods
    older: House  # in 2026Q1 only: gone before the last update
    newcomer: House  # in 2026Q3 only
    stranger: tuple[str, str]


def publish_removal(factory: Factory) -> Removal:
    gone = factory.household(desil=2, programs=("PKH", "BPNT"), size=3, desa="32.16.02.2001")
    stays = factory.household(desil=3, programs=("BPNT",))
    older = factory.household(desil=1, programs=("PKH",))
    newcomer = factory.household(desil=4, programs=())
    factory.publish("2026Q1", [older, stays])
    factory.publish("2026Q2", [stays, gone])
    factory.publish("2026Q3", [newcomer, stays])
    return Removal(gone, stays, older, newcomer, factory.unknown_pair())


@pytest.fixture
def removal(kept_world: KeptWorld) -> Removal:
    return kept_world(publish_removal)


@pytest.fixture
def limited_removal(limited_factory: Factory) -> Removal:
    return publish_removal(limited_factory)


def dicoret(removal: Removal) -> dict[str, dict]:
    """Complete EXC-DICORET answers, filed by a member of the removed household."""
    gone = removal.gone
    return {
        "alasan": {"reason": "EXC-DICORET"},
        "pelapor": {"nik": gone.members[1].nik, "no_kk": gone.no_kk},
        "rincian": {"evidence": ["unchanged"], "note": NOTE},
        "kontak": {"phone": "0812 3456 7890", "email": ""},
    }


def filer_step(client: Client, kind: str, code: str, nik: str, kk: str) -> Page:
    client.post_form(f"/{kind}/alasan", {"reason": code})
    return client.post_form(f"/{kind}/pelapor", {"nik": nik, "no_kk": kk})


def refused_filer(client: Client, kind: str, code: str, nik: str, kk: str) -> Page:
    """The filer step refuses NIK + KK (Post/Redirect/Get): the POST answers 303 to the same
    step, whose GET shows the errors with status 200."""
    sent = filer_step(client, kind, code, nik, kk)
    assert sent.status == 303, sent.status
    assert path_of(sent) == f"/{kind}/pelapor"
    return client.page(f"/{kind}/pelapor")


def notices(page: Page) -> list[str]:
    return page.texts(".notice")


# --- the removed pair files EXC-DICORET -------------------------------------------------------


def test_a_removed_household_files_exc_dicoret_registered_in_its_last_period(
    app: Flask, client: Client, removal: Removal, file_case
) -> None:
    gone = removal.gone
    page = filer_step(client, "sanggahan", "EXC-DICORET", gone.members[1].nik, gone.no_kk)

    assert page.status == 302, page.error_summary()
    assert path_of(page) == "/sanggahan/rincian"
    confirmed = client.page("/sanggahan/rincian")
    assert "Found in DTSEN: registered in Q2 2026 (April-June)" in notices(confirmed)

    path = walk(client, "sanggahan", dicoret(removal))
    check = client.page(path)
    filer_row = check.soup.select(".summary__row")[1]
    assert filer_row.select_one(".summary__key").get_text(strip=True) == "Who is filing"
    lines = [s.get_text(" ", strip=True) for s in filer_row.select(".summary__line")]
    assert lines[-1] == "Found in DTSEN: registered in Q2 2026 (April-June)"

    sent = submit(client, "sanggahan")
    assert sent.status == 302
    assert path_of(sent) == "/tanda-terima"
    ticket = client.page("/tanda-terima").texts(".ticket")[0]
    case = load_case(app, ticket)
    assert (case.reason_code, case.filer_verified) == ("EXC-DICORET", True)
    assert case.subject_is_filer_household is True
    assert case.subject_found is False  # not in the current data: it was removed
    assert (case.kabupaten_code, case.kecamatan_code, case.kode_desa) == (
        "32.16",
        "32.16.02",
        "32.16.02.2001",
    )  # the desa of the household in its last period
    assert case.period == "2026Q3"


def test_the_check_page_says_terdaftar_di_triwulan_in_indonesian(
    client: Client, removal: Removal
) -> None:
    path = walk(client, "sanggahan", dicoret(removal))
    client.choose_language("id")

    check = client.page(path)

    assert "Ditemukan di DTSEN: terdaftar di Triwulan II 2026" in check.texts(".summary__line")


def test_a_household_still_in_the_data_is_registered_in_the_current_period(
    client: Client, removal: Removal
) -> None:
    stays = removal.stays
    page = filer_step(client, "sanggahan", "EXC-DICORET", stays.members[0].nik, stays.no_kk)

    assert page.status == 302
    assert "Found in DTSEN: registered in Q3 2026 (July-September)" in notices(
        client.page(path_of(page))
    )


# --- no other reason accepts a pair only in an old period ----------------------------------------

VERIFIED = [c for c in REASONS if c not in ("EXC-DICORET", "EXC-TIDAK-TERDATA")]


REMOVED = (
    "Your household is not in the latest DTSEN data: it was removed in the last update. This "
    "case needs a household that is in the current data."
)
WAS_IN = "Your family was in DTSEN in Q2 2026 (April-June) but is not in the update for Q3 2026"
TO_DICORET = "/sanggahan/alasan?alasan=EXC-DICORET"


@pytest.mark.parametrize("code", VERIFIED)
def test_other_reasons_tell_a_removed_household_so_and_point_to_exc_dicoret(
    client: Client, removal: Removal, code: str
) -> None:
    """As the look-up for the same numbers: "removed", not "check your numbers"."""
    kind = REASONS[code].kind.value
    gone = removal.gone

    page = refused_filer(client, kind, code, gone.members[0].nik, gone.no_kk)

    assert page.error_summary() == [REMOVED]
    assert page.soup.select_one(".error-summary a[href='#no_kk']")
    assert NOT_FOUND not in page
    assert WAS_IN in page
    assert "removed by mistake and is still eligible, file a sanggahan" in page
    [button] = page.soup.select(f"main a.button[href='{TO_DICORET}']")
    assert button.get_text(strip=True) == "File a sanggahan: removed but still eligible"


def test_the_removed_household_goes_on_to_exc_dicoret_from_the_filer_step(
    client: Client, removal: Removal
) -> None:
    """The button leads to the same draft's reason page with EXC-DICORET chosen, and the
    numbers are then accepted."""
    gone = removal.gone
    refused_filer(client, "sanggahan", "INC-MAMPU", gone.members[0].nik, gone.no_kk)

    reasons = client.page(TO_DICORET)

    chosen = reasons.soup.find("input", attrs={"name": "reason", "checked": True})
    assert chosen is not None
    assert chosen["value"] == "EXC-DICORET"
    assert client.post_form(TO_DICORET, {"reason": "EXC-DICORET"}).status == 302
    page = client.post_form("/sanggahan/pelapor", {"nik": gone.members[0].nik, "no_kk": gone.no_kk})
    assert (page.status, path_of(page)) == (302, "/sanggahan/rincian")


def test_a_removed_household_is_not_a_miss_as_at_the_look_up(
    limited_app: Flask, limited_client: Client, limited_removal: Removal
) -> None:
    """The look-up counts no miss for a removed household: neither does the filer step (the
    numbers are right), so its owner is never made to wait for telling it so."""
    limited_app.config["APPEAL_LIMIT"] = "100 per minute"
    gone = limited_removal.gone
    for __ in range(4):  # DTSEN_FREE_MISSES is 3 in limited_app
        page = filer_step(limited_client, "sanggahan", "INC-MAMPU", gone.members[0].nik, gone.no_kk)
        assert (page.status, path_of(page)) == (303, "/sanggahan/pelapor")

    owner = limited_client.post_form("/", {"nik": gone.members[0].nik, "no_kk": gone.no_kk})
    assert owner.status == 303


@pytest.mark.parametrize(
    "pair",
    ["stranger", "nik of gone, kk of stays", "older", "newcomer's nik, gone's kk"],
)
def test_other_reasons_still_say_not_found_for_pairs_not_removed(
    client: Client, removal: Removal, pair: str
) -> None:
    nik, kk = {
        "stranger": removal.stranger,
        "nik of gone, kk of stays": (removal.gone.members[0].nik, removal.stays.no_kk),
        "older": (removal.older.members[0].nik, removal.older.no_kk),
        "newcomer's nik, gone's kk": (removal.newcomer.members[0].nik, removal.gone.no_kk),
    }[pair]
    page = refused_filer(client, "sanggahan", "INC-MAMPU", nik, kk)
    assert NOT_FOUND in " ".join(page.error_summary())
    assert WAS_IN not in page


def test_an_usulan_for_a_household_missing_from_dtsen_still_accepts_a_removed_filer(
    client: Client, removal: Removal
) -> None:
    """EXC-TIDAK-TERDATA is filed by someone not in (the current) DTSEN: unverified, as
    before."""
    gone = removal.gone
    page = filer_step(client, "usulan", "EXC-TIDAK-TERDATA", gone.members[0].nik, gone.no_kk)
    assert page.status == 302


def test_exc_dicoret_refuses_a_pair_gone_before_the_last_update(
    client: Client, removal: Removal
) -> None:
    """As the look-up: "removed" is the last update only (an older pair is 'not found')."""
    older = removal.older
    page = refused_filer(client, "sanggahan", "EXC-DICORET", older.members[0].nik, older.no_kk)
    assert NOT_FOUND in " ".join(page.error_summary())


@pytest.mark.parametrize(
    "pair",
    ["stranger", "nik of gone, kk of stays", "nik of stays, kk of gone"],
)
def test_exc_dicoret_refuses_pairs_that_do_not_match_in_either_period(
    client: Client, removal: Removal, pair: str
) -> None:
    nik, kk = {
        "stranger": removal.stranger,
        "nik of gone, kk of stays": (removal.gone.members[0].nik, removal.stays.no_kk),
        "nik of stays, kk of gone": (removal.stays.members[0].nik, removal.gone.no_kk),
    }[pair]
    page = refused_filer(client, "sanggahan", "EXC-DICORET", nik, kk)
    assert NOT_FOUND in " ".join(page.error_summary())


def test_changing_the_reason_away_from_exc_dicoret_asks_for_the_filer_again(
    client: Client, removal: Removal
) -> None:
    gone = removal.gone
    assert filer_step(client, "sanggahan", "EXC-DICORET", gone.members[0].nik, gone.no_kk).status
    client.post_form("/sanggahan/alasan", {"reason": "INC-MAMPU"})

    after = Page(client.get("/sanggahan/subjek"))  # the step after the filer's
    assert after.status == 302
    assert path_of(after) == "/sanggahan/pelapor"


def test_changing_the_reason_keeps_a_filer_proven_in_the_current_period(
    client: Client, removal: Removal
) -> None:
    stays = removal.stays
    filer_step(client, "sanggahan", "EXC-DICORET", stays.members[0].nik, stays.no_kk)
    client.post_form("/sanggahan/alasan", {"reason": "INC-MAMPU"})
    assert Page(client.get("/sanggahan/subjek")).status == 200  # the filer step stays answered


def test_a_sent_case_about_an_old_period_filer_is_checked_again_at_sending(
    app: Flask, client: Client, removal: Removal
) -> None:
    """A draft that names a removed filer for another reason (forged or stale) is refused at
    sending: the filer step comes back, and no case is made."""
    walk(client, "sanggahan", dicoret(removal))
    with app.app_context():
        from portal import db
        from portal.appeals.models import AppealDraft

        draft = db.session.query(AppealDraft).one()
        draft.answers = {**draft.answers, "alasan": {"reason": "EXC-DESIL-SALAH"}}
        db.session.commit()

    sent = submit(client, "sanggahan")

    assert path_of(sent) == "/sanggahan/pelapor"


# --- no oracle, and every "no" is a miss --------------------------------------------------------


def test_exc_dicoret_costs_the_same_queries_whatever_is_wrong(app: Flask, removal: Removal) -> None:
    gone, stays = removal.gone, removal.stays
    nik, kk = removal.stranger
    noes = {
        "unknown NIK and KK": (nik, kk),
        "unknown NIK": (nik, gone.no_kk),
        "unknown KK": (gone.members[0].nik, kk),
        "NIK and KK of two households": (gone.members[0].nik, stays.no_kk),
        "gone before the last update": (removal.older.members[0].nik, removal.older.no_kk),
    }
    statements: list[str] = []
    engine = app.extensions["db_engine"]

    def listener(*args: object) -> None:
        statements.append(str(args[2]))

    shapes = {}
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for label, (n, k) in noes.items():
            statements.clear()
            with app.test_request_context():
                g.dtsen_admitted = True
                with pytest.raises(errors.FilerNotVerified):
                    filers.verify_filer(n, k, "EXC-DICORET")
            shapes[label] = tuple(statements)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(set(shapes.values())) == 1, shapes
    asked = [s for s in next(iter(shapes.values())) if "FROM persons" in s]
    assert len(asked) == 1, "a 'no' is one query about the people"


def test_exc_dicoret_misses_count_for_the_numbers_like_the_look_up(
    limited_app: Flask, limited_client: Client, limited_removal: Removal
) -> None:
    limited_app.config["APPEAL_LIMIT"] = "100 per minute"
    victim = limited_removal.gone
    others = [
        limited_removal.stays.no_kk,
        limited_removal.newcomer.no_kk,
        limited_removal.older.no_kk,
    ]
    limited_client.post_form("/sanggahan/alasan", {"reason": "EXC-DICORET"})
    for kk in others:  # DTSEN_FREE_MISSES is 3 in limited_app
        page = limited_client.post_form(
            "/sanggahan/pelapor", {"nik": victim.members[0].nik, "no_kk": kk}
        )
        assert (page.status, path_of(page)) == (303, "/sanggahan/pelapor")
        assert NOT_FOUND in " ".join(limited_client.page("/sanggahan/pelapor").error_summary())

    owner = limited_client.post_form("/", {"nik": victim.members[0].nik, "no_kk": victim.no_kk})
    assert owner.status == 429
    assert owner.soup.find("input", attrs={"name": "wait"}) is not None


def test_the_removed_result_page_leads_to_a_filing_that_works(
    client: Client, removal: Removal
) -> None:
    """The journey the issue found broken: result page -> its button -> the filer step."""
    gone = removal.gone
    result = client.post_form(
        "/", {"nik": gone.members[0].nik, "no_kk": gone.no_kk}, follow_redirects=True
    )
    assert result.path == "/hasil"
    button = [a["href"] for a in result.soup.select("main a.button") if "EXC-DICORET" in a["href"]]
    assert len(button) == 1
    first = client.page(button[0])
    assert first.soup.find("input", attrs={"value": "EXC-DICORET", "checked": True})

    page = filer_step(client, "sanggahan", "EXC-DICORET", gone.members[0].nik, gone.no_kk)

    assert page.status == 302
