"""Find my cases ("Lihat semua laporan saya", issue 10 item 7): NIK + No. KK, proven under the
look-up's policy, list the cases filed with that NIK, newest first, each opening the tracking
page. A "no" looks like every other "no" and is a miss for the numbers; no number ever sits in
a URL or the session cookie."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from flask import Flask, g
from sqlalchemy import event, update

from portal import db
from portal.appeals import tickets
from portal.appeals.mine import service as mine
from portal.appeals.models import CaseListGrant
from portal.appeals.reasons import REASONS
from portal.appeals.states import AppealStatus
from portal.dataimport.demo import House, Member
from portal.replay.models import FormReplay
from tests.appeals.conftest import answers_for, decide, load_case, path_of, submit, walk
from tests.fixtures.factories import Factory
from tests.fixtures.worlds import KeptWorld
from tests.helpers import Client, Page

SIXTEEN = re.compile(r"\d{16}")
COOKIE = "dtsen_session"
JAKARTA = ZoneInfo("Asia/Jakarta")


@dataclass
class Filers:
    filer: House  # files two cases
    other: House  # reported about
    third: House  # files one case of its own
    lookalike: House  # its head's NIK differs from the filer's only in the serial
    stranger: tuple[str, str]

    @property
    def filer_nik(self) -> str:
        return self.filer.members[0].nik


def lookalike_of(factory: Factory, house: House) -> House:
    """A household whose head has the filer's NIK but for the last four digits."""
    nik = house.members[0].nik
    twin = nik[:12] + ("0001" if nik[12:] != "0001" else "0002")
    base = factory.household(desil=3, programs=("BPNT",))
    head = base.members[0]
    members = [Member(twin, head.nama, head.sex, house.members[0].born, head.hubungan, ["BPNT"])]
    return House(base.no_kk, base.kode_desa, base.alamat, base.desil, members + base.members[1:])


def publish_filers(factory: Factory) -> Filers:
    filer = factory.household(desil=2, programs=("PKH",), size=3)
    other = factory.household(desil=8, programs=("PKH", "BPNT"), size=2)
    third = factory.household(desil=4, programs=(), size=2)
    twin = lookalike_of(factory, filer)
    factory.publish("2026Q3", [filer, other, twin, third])
    return Filers(filer, other, third, twin, factory.unknown_pair())


@pytest.fixture
def filers(kept_world: KeptWorld) -> Filers:
    return kept_world(publish_filers)


@pytest.fixture
def limited_filers(limited_factory: Factory) -> Filers:
    return publish_filers(limited_factory)


def english(app: Flask) -> Client:
    return app.test_client().choose_language("en")  # type: ignore[no-any-return]


def file_as(app: Flask, world: Filers, code: str, filer: House, **extra) -> str:
    """A new browser files CODE as a member of FILER; the ticket as shown (XXXX-XXXX)."""
    client = english(app)
    answers = answers_for(world, code, filer=filer, about=world.other)  # type: ignore[arg-type]
    answers.update(extra)
    walk(client, REASONS[code].kind.value, answers)
    sent = submit(client, REASONS[code].kind.value)
    assert path_of(sent) == "/tanda-terima", sent.error_summary()
    return client.page("/tanda-terima").texts(".ticket")[0]


def prove(client: Client, nik: str, no_kk: str, **kwargs) -> Page:
    return client.post_form("/laporan-saya", {"nik": nik, "no_kk": no_kk}, **kwargs)


@dataclass
class Row:
    ticket: str
    reason: str
    status: str
    filed: str
    button: str = field(compare=False)


def filed_on(at: datetime) -> str:
    return "Filed on " + format_date(at.astimezone(JAKARTA), "long", locale="en")


def rows(page: Page) -> list[Row]:
    found = []
    for item in page.soup.select(".my-case"):
        found.append(
            Row(
                item.select_one(".ticket").get_text(strip=True),
                item.select_one(".my-case__reason").get_text(" ", strip=True),
                item.select_one(".status").get_text(" ", strip=True),
                item.select_one(".my-case__filed").get_text(" ", strip=True),
                item.find("button")["value"],
            )
        )
    return found


def open_ticket(client: Client, listing: Page, ticket: str) -> Page:
    """Press the list's button for TICKET (its value), with the list's CSRF token."""
    token = listing.soup.find("input", attrs={"name": "csrf_token"})["value"]
    return Page(client.post("/laporan-saya/buka", data={"csrf_token": token, "ticket": ticket}))


def duration_words(seconds: int) -> str:
    """A wait as the page says it in English: 30 seconds, 1 minute, 4 minutes."""
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def main_text(page: Page) -> str:
    return page.soup.main.get_text(" ", strip=True)


# --- the list ----------------------------------------------------------------------------------


def test_find_my_cases_lists_exactly_the_filers_cases_newest_first(
    app: Flask, client: Client, filers: Filers
) -> None:
    first = file_as(app, filers, "INC-MAMPU", filers.filer)
    file_as(app, filers, "INC-ASN", filers.lookalike)  # a look-alike NIK
    file_as(app, filers, "EXC-DESIL-SALAH", filers.third)  # someone else
    second = file_as(app, filers, "EXC-DESIL-SALAH", filers.filer)
    decide(app, first, AppealStatus.DITOLAK)
    # anyone may file unverified "as" the filer's NIK: not the filer's case, not listed
    kk = filers.stranger[1]
    pelapor = {"nik": filers.filer_nik, "no_kk": kk}
    file_as(app, filers, "EXC-TIDAK-TERDATA", filers.filer, pelapor=pelapor)

    proof = prove(client, filers.filer.members[0].nik, filers.filer.no_kk)

    assert proof.status == 303
    assert proof.response.headers["Location"] == "/laporan-saya/daftar"
    page = client.page("/laporan-saya/daftar")
    assert page.h1 == "Your reports"
    assert "2 reports filed with your NIK, newest first." in page
    filed = {t: filed_on(load_case(app, t).created_at) for t in (first, second)}
    assert rows(page) == [
        Row(second, "Sanggahan: My desil is wrong", "Received", filed[second], "_"),
        Row(first, "Sanggahan: A recipient is clearly well-off", "Rejected", filed[first], "_"),
    ]
    assert [r.button for r in rows(page)] == [tickets.normalise(t) for t in (second, first)]


def test_another_member_of_the_family_card_sees_only_their_own_nik_cases(
    app: Flask, client: Client, filers: Filers
) -> None:
    file_as(app, filers, "INC-MAMPU", filers.filer)
    member = filers.filer.members[1]

    proof = prove(client, member.nik, filers.filer.no_kk)

    assert proof.status == 303
    page = client.page("/laporan-saya/daftar")
    assert rows(page) == []
    assert "No report has been filed with your NIK yet." in page


def test_each_listed_case_opens_on_the_tracking_page(
    app: Flask, client: Client, filers: Filers
) -> None:
    older = file_as(app, filers, "INC-MAMPU", filers.filer)
    newer = file_as(app, filers, "EXC-DESIL-SALAH", filers.filer)
    prove(client, filers.filer_nik, filers.filer.no_kk)
    listing = client.page("/laporan-saya/daftar")

    for ticket in (older, newer):
        opened = open_ticket(client, listing, tickets.normalise(ticket))
        assert opened.status == 303
        assert opened.response.headers["Location"] == "/lacak/kasus"
        case = client.page("/lacak/kasus")
        assert case.texts(".ticket") == [ticket]


def test_a_ticket_that_is_not_in_the_list_does_not_open(
    app: Flask, client: Client, filers: Filers
) -> None:
    file_as(app, filers, "INC-MAMPU", filers.filer)
    foreign = file_as(app, filers, "INC-ASN", filers.lookalike)
    prove(client, filers.filer_nik, filers.filer.no_kk)
    listing = client.page("/laporan-saya/daftar")

    for ticket in (tickets.normalise(foreign), "NOT-A-TICKET", ""):
        page = open_ticket(client, listing, ticket)
        assert page.status == 303
        assert page.response.headers["Location"] == "/laporan-saya/daftar"
    assert path_of(Page(client.get("/lacak/kasus"))) == "/lacak"  # no tracking grant


def test_opening_a_case_without_a_proof_leads_to_the_form(
    app: Flask, client: Client, filers: Filers
) -> None:
    ticket = file_as(app, filers, "INC-MAMPU", filers.filer)
    page = client.page("/laporan-saya")
    opened = open_ticket(client, page, tickets.normalise(ticket))
    assert path_of(opened) == "/laporan-saya/daftar"
    assert path_of(Page(client.get("/laporan-saya/daftar"))) == "/laporan-saya"
    assert path_of(Page(client.get("/lacak/kasus"))) == "/lacak"


def test_the_list_survives_refresh_back_and_the_language_switch(
    app: Flask, client: Client, filers: Filers
) -> None:
    ticket = file_as(app, filers, "INC-MAMPU", filers.filer)
    prove(client, filers.filer_nik, filers.filer.no_kk)

    again = client.page("/laporan-saya/daftar")
    indonesian = client.page("/laporan-saya/daftar?lang=id")

    assert [r.ticket for r in rows(again)] == [ticket]
    assert indonesian.lang == "id"
    assert indonesian.h1 == "Laporan Anda"
    assert [r.ticket for r in rows(indonesian)] == [ticket]
    assert rows(indonesian)[0].status == "Terkirim"


def test_no_number_is_in_a_url_or_the_session_cookie(
    app: Flask, client: Client, filers: Filers
) -> None:
    file_as(app, filers, "INC-MAMPU", filers.filer)
    nik, kk = filers.filer_nik, filers.filer.no_kk

    proof = prove(client, nik, kk)

    assert proof.response.headers["Location"] == "/laporan-saya/daftar"
    for header in proof.response.headers.getlist("Set-Cookie"):
        assert not SIXTEEN.search(header)
    raw = client.get_cookie(COOKIE).value
    session = app.session_interface.get_signing_serializer(app).loads(raw)  # type: ignore[attr-defined]
    stored = repr(session)
    assert nik not in stored
    assert kk not in stored
    # the CSRF token is 40 random hex digits: about one in a hundred has 16 decimal in a row
    assert not SIXTEEN.search(repr({k: v for k, v in session.items() if k != "csrf_token"}))
    with app.app_context():
        grant = db.session.query(CaseListGrant).one()
        assert session["my_cases"] not in (grant.token_hash, grant.filer_nik_hmac)
        assert grant.filer_nik_hmac not in stored
    page = client.page("/laporan-saya/daftar")
    assert nik not in page.text


def test_done_hides_the_list_on_this_device(app: Flask, client: Client, filers: Filers) -> None:
    file_as(app, filers, "INC-MAMPU", filers.filer)
    prove(client, filers.filer_nik, filers.filer.no_kk)
    stolen = client.get_cookie(COOKIE).value
    listing = client.page("/laporan-saya/daftar")
    token = listing.soup.find("input", attrs={"name": "csrf_token"})["value"]

    done = Page(client.post("/laporan-saya/selesai", data={"csrf_token": token}))

    assert path_of(done) == "/laporan-saya"
    assert path_of(Page(client.get("/laporan-saya/daftar"))) == "/laporan-saya"
    replay = english(app)
    replay.set_cookie(COOKIE, stolen)
    assert path_of(Page(replay.get("/laporan-saya/daftar"))) == "/laporan-saya"


def test_an_expired_proof_asks_for_the_numbers_again(
    app: Flask, client: Client, filers: Filers
) -> None:
    prove(client, filers.filer_nik, filers.filer.no_kk)
    with app.app_context():
        db.session.execute(
            update(CaseListGrant).values(expires_at=db.utcnow() - timedelta(seconds=1))
        )
        db.session.commit()

    page = Page(client.get("/laporan-saya/daftar"))

    assert path_of(page) == "/laporan-saya"
    form = client.page("/laporan-saya")
    assert "For your security, enter your NIK and No. KK again." in form


# --- who may list what --------------------------------------------------------------------------


def test_an_unverified_filer_finds_the_cases_filed_with_that_very_pair(
    app: Flask, client: Client, filers: Filers
) -> None:
    """A household missing from DTSEN files unverified: its pair opens its own cases only."""
    nik, kk = filers.stranger
    own = file_as(app, filers, "EXC-TIDAK-TERDATA", filers.filer)  # answers use the stranger
    verified = file_as(app, filers, "INC-MAMPU", filers.filer)
    impostor = file_as(
        app,
        filers,
        "EXC-TIDAK-TERDATA",
        filers.filer,
        pelapor={"nik": filers.filer_nik, "no_kk": kk},
    )

    prove(client, nik, kk)
    assert [r.ticket for r in rows(client.page("/laporan-saya/daftar"))] == [own]
    # the impostor, who used the filer's NIK with the stranger's card, sees only that case
    other = english(app)
    prove(other, filers.filer_nik, kk)
    assert [r.ticket for r in rows(other.page("/laporan-saya/daftar"))] == [impostor]
    # the filer, proven in DTSEN, sees the verified case and not the impostor's
    owner = english(app)
    prove(owner, filers.filer_nik, filers.filer.no_kk)
    assert [r.ticket for r in rows(owner.page("/laporan-saya/daftar"))] == [verified]


def test_a_household_removed_in_the_last_update_finds_its_cases(
    app: Flask, client: Client, factory: Factory
) -> None:
    gone, stays = factory.household(desil=2), factory.household(desil=3)
    factory.publish("2026Q2", [gone, stays])
    factory.publish("2026Q3", [stays])

    page = prove(client, gone.members[0].nik, gone.no_kk)

    assert page.status == 303
    assert "No report has been filed with your NIK yet." in client.page("/laporan-saya/daftar")


# --- every "no" is the same, and a miss --------------------------------------------------------


def test_every_no_looks_exactly_the_same(app: Flask, client: Client, filers: Filers) -> None:
    file_as(app, filers, "INC-MAMPU", filers.filer)
    file_as(app, filers, "INC-ASN", filers.lookalike)
    nik, kk = filers.stranger
    pairs = {
        "unknown NIK and KK": (nik, kk),
        "filer's NIK, unknown KK": (filers.filer_nik, kk),
        "unknown NIK, filer's KK": (nik, filers.filer.no_kk),
        "filer's NIK, another card": (filers.filer_nik, filers.other.no_kk),
        "look-alike NIK, filer's card": (filers.lookalike.members[0].nik, filers.filer.no_kk),
    }

    pages = {
        label: prove(english(app), n, k, follow_redirects=True) for label, (n, k) in pairs.items()
    }

    # each "no" answers 303 to the form (Post/Redirect/Get), shown again by a GET with 200
    assert {label: [r.status_code for r in p.redirects] for label, p in pages.items()} == (
        dict.fromkeys(pairs, [303])
    )
    assert {label: (p.path, p.status) for label, p in pages.items()} == dict.fromkeys(
        pairs, ("/laporan-saya", 200)
    )
    texts = {main_text(p) for p in pages.values()}
    assert len(texts) == 1, texts
    page = next(iter(pages.values()))
    assert "We found no reports for this NIK and No. KK." in page
    for p in pages.values():  # the form comes back empty: no number is echoed
        assert [
            i.get("value", "") for i in p.soup.select("input[name=nik], input[name=no_kk]")
        ] == [
            "",
            "",
        ]


def number_values(page: Page) -> list[str]:
    return [i.get("value", "") for i in page.soup.select("input[name=nik], input[name=no_kk]")]


def test_a_no_comes_back_on_refresh_back_and_the_language_switch_without_sending_again(
    limited_app: Flask, limited_client: Client, limited_filers: Filers
) -> None:
    """Post/Redirect/Get: a "no" is shown by GETs of the form (refresh, Back, ?lang=), which
    neither ask DTSEN again nor count a miss; its numbers are kept nowhere; a proof clears it."""
    victim = limited_filers.filer
    nik = victim.members[0].nik
    no = "We found no reports for this NIK and No. KK."
    for kk in (limited_filers.other.no_kk, limited_filers.stranger[1]):  # 2 of 3 free misses
        sent = prove(limited_client, nik, kk)
        assert (sent.status, sent.response.headers["Location"]) == (303, "/laporan-saya")
        shown = [limited_client.page("/laporan-saya") for _ in range(3)]
        assert {main_text(p) for p in shown} == {main_text(shown[0])}
        assert no in shown[0]
        assert number_values(shown[0]) == ["", ""]
    indonesian = limited_client.page("/laporan-saya?lang=id")
    assert "Kami tidak menemukan laporan untuk NIK dan No. KK ini." in indonesian
    with limited_app.app_context():
        kept = repr([(r.answers, r.errors, r.notes) for r in db.session.query(FormReplay)])
    assert not SIXTEEN.search(kept), kept
    limited_client.choose_language("en")

    # had a GET counted a miss (6 so far), these right numbers would have to wait (429)
    proof = prove(limited_client, nik, victim.no_kk)

    assert (proof.status, proof.response.headers["Location"]) == (303, "/laporan-saya/daftar")
    form = limited_client.page("/laporan-saya")
    assert no not in form
    assert form.error_summary() == []


def test_bad_numbers_come_back_on_refresh_and_the_language_switch(
    client: Client, filers: Filers
) -> None:
    sent = prove(client, filers.filer_nik, "123")
    assert (sent.status, sent.response.headers["Location"]) == (303, "/laporan-saya")

    first = client.page("/laporan-saya")
    refreshed = client.page("/laporan-saya")
    indonesian = client.page("/laporan-saya?lang=id")

    assert first.error_summary() == refreshed.error_summary() != []
    assert [a["href"] for a in first.soup.select(".error-summary__list a")] == ["#no_kk"]
    assert [a["href"] for a in indonesian.soup.select(".error-summary__list a")] == ["#no_kk"]
    assert indonesian.error_summary() != first.error_summary()  # translated when shown
    assert number_values(first)[1] == ""  # the refused number is not echoed
    client.choose_language("en")
    assert prove(client, filers.filer_nik, filers.filer.no_kk).status == 303
    assert client.page("/laporan-saya").error_summary() == []


def test_a_no_runs_the_same_queries_whatever_is_wrong(app: Flask, filers: Filers) -> None:
    nik, kk = filers.stranger
    pairs = [
        (nik, kk),
        (filers.filer_nik, kk),
        (nik, filers.filer.no_kk),
        (filers.filer_nik, filers.other.no_kk),
    ]
    statements: list[str] = []
    engine = app.extensions["db_engine"]

    def listener(*args: object) -> None:
        statements.append(str(args[2]))

    shapes = []
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for n, k in pairs:
            statements.clear()
            with app.test_request_context():
                g.dtsen_admitted = True
                assert mine.prove(n, k) is None
            shapes.append(tuple(statements))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(set(shapes)) == 1


def test_find_my_cases_asks_dtsen_only_after_the_policy(app: Flask, filers: Filers) -> None:
    from portal.policy import UnguardedCheck

    with app.test_request_context("/laporan-saya", method="POST"), pytest.raises(UnguardedCheck):
        mine.prove(filers.filer_nik, filers.filer.no_kk)


def test_misses_here_and_at_the_look_up_count_for_the_same_numbers(
    limited_app: Flask, limited_client: Client, limited_filers: Filers
) -> None:
    victim = limited_filers.filer
    others = [limited_filers.other.no_kk, limited_filers.third.no_kk, limited_filers.stranger[1]]
    for kk in others:  # DTSEN_FREE_MISSES is 3 in limited_app
        no = prove(limited_client, victim.members[0].nik, kk)
        assert (no.status, no.response.headers["Location"]) == (303, "/laporan-saya")
        shown = limited_client.page("/laporan-saya")
        assert "We found no reports for this NIK and No. KK." in shown

    look_up = limited_client.post_form("/", {"nik": victim.members[0].nik, "no_kk": victim.no_kk})
    assert look_up.status == 429
    assert look_up.soup.find("input", attrs={"name": "wait"}) is not None
    here = prove(limited_client, victim.members[0].nik, victim.no_kk)
    assert here.status == 429
    notice = here.soup.select_one(".notice--error").get_text(" ", strip=True)
    wait = duration_words(int(here.response.headers["Retry-After"]))
    assert f"Wait {wait}, then send again." in notice


def test_look_up_misses_make_find_my_cases_wait_too(
    limited_app: Flask, limited_client: Client, limited_filers: Filers
) -> None:
    victim = limited_filers.filer
    for kk in [limited_filers.other.no_kk, limited_filers.third.no_kk, limited_filers.stranger[1]]:
        limited_client.post_form("/", {"nik": victim.members[0].nik, "no_kk": kk})

    here = prove(limited_client, victim.members[0].nik, victim.no_kk)

    assert here.status == 429
    assert here.soup.find("input", attrs={"name": "wait"}) is not None


def test_find_my_cases_shares_the_look_up_limit_per_network(
    limited_app: Flask, limited_client: Client, limited_filers: Filers
) -> None:
    """LOOKUP_LIMIT is 5 per minute in limited_app: one budget for both forms."""
    houses = [limited_filers.filer, limited_filers.other, limited_filers.third]
    statuses = [
        limited_client.post_form("/", {"nik": h.members[0].nik, "no_kk": h.no_kk}).status
        for h in houses
    ]
    statuses += [prove(limited_client, h.members[0].nik, h.no_kk).status for h in houses]
    assert statuses == [303, 303, 303, 303, 303, 429]


# --- the form --------------------------------------------------------------------------------


def test_bad_numbers_are_refused_on_their_fields_and_not_echoed(client: Client) -> None:
    sent = prove(client, "3216014506880002X", "123")
    assert (sent.status, sent.response.headers["Location"]) == (303, "/laporan-saya")
    page = client.page("/laporan-saya")
    assert [a["href"] for a in page.soup.select(".error-summary__list a")] == ["#nik", "#no_kk"]
    assert "3216014506880002X" not in page.text


def test_the_track_page_and_the_result_page_link_here(client: Client, filers: Filers) -> None:
    track = client.page("/lacak")
    assert track.soup.find("a", href="/laporan-saya").get_text(strip=True) == "See all my reports"
    result = client.post_form(
        "/", {"nik": filers.filer_nik, "no_kk": filers.filer.no_kk}, follow_redirects=True
    )
    assert result.path == "/hasil"
    assert result.soup.find("a", href="/laporan-saya") is not None


# --- the words -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/laporan-saya"])
@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_family_card_number_is_labelled_no_kk_as_on_every_other_form(
    client: Client, url: str, lang: str
) -> None:
    """DOMAIN.md's word, as the filing pages ask it ("Your No. KK")."""
    client.choose_language(lang)
    page = client.page(url)
    label = page.soup.find("label", attrs={"for": "no_kk"})
    assert label is not None
    assert label.get_text(strip=True) == "No. KK"
    assert "Nomor KK" not in page
