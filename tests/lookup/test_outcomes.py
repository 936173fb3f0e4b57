"""Each look-up outcome through HTTP POST "/" (and the result page it redirects to), the
no-oracle rule, the access log and the two "service unavailable" cases (nothing published,
database down).

Text is asserted on the English pages (chosen with ?lang=en): the msgids are English, so
the assertions do not depend on the wording of the Indonesian catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal import create_app, db
from portal.dataimport.models import Snapshot
from portal.lookup.models import AccessEvent
from tests.helpers import Client, Page

FULL_NAMES = ("BUDI SANTOSO", "SITI AMINAH", "AHMAD FAUZI")


def look_up(client: Client, nik: str, no_kk: str, **kwargs: object) -> Page:
    """POST the look-up and follow its redirect to the result page (Post/Redirect/Get)."""
    client.choose_language("en")
    return client.post_form("/", {"nik": nik, "no_kk": no_kk}, follow_redirects=True, **kwargs)


def main_text(page: Page) -> str:
    assert page.soup.main is not None, "no <main>"
    return page.soup.main.get_text(" ", strip=True)


def access_events(app: Flask) -> list[AccessEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AccessEvent).order_by(AccessEvent.id)))


def published_on_en(app: Flask, period: str) -> str:
    """The snapshot's publication date as the English page writes it (Jakarta date)."""
    with app.app_context():
        published: datetime = db.session.scalars(
            select(Snapshot.published_at).where(Snapshot.period == period)
        ).one()
    return format_date(published.astimezone(ZoneInfo("Asia/Jakarta")), "long", locale="en")


def assert_no_full_names(page: Page) -> None:
    text = page.text.upper()
    for name in FULL_NAMES:
        assert name not in text
        for word in name.split():
            assert word not in text, f"{word!r} appears unmasked"


def programs_in_scope(page: Page) -> dict[str, str]:
    """{program code: its tag ('received', 'not yet received', ...)} from the 'in scope' list."""
    found = {}
    for item in page.soup.select(".program"):
        name = item.select_one(".program__name").get_text(" ", strip=True)
        code = name.replace("/", " ").replace("(", " ").replace(":", " ").split()[0]
        found[code] = item.select_one(".tag").get_text(" ", strip=True)
    return found


# --- found ---------------------------------------------------------------------------------


def test_receiving_household_shows_desil_label_period_region_and_masked_members(
    client: Client, factory, app: Flask
) -> None:
    house = factory.household(desil=2, programs=("PKH", "BPNT", "PBI-JK"), size=3)
    factory.publish("2026Q3", [house])

    page = look_up(client, house.members[1].nik, house.no_kk, status=200)

    assert "receives bansos" in page.h1
    assert page.texts(".desil-card__number") == ["Desil 2"]
    assert page.texts(".desil-card__label") == ["poor"]
    place = page.texts(".desil-card__place")[0]
    assert "Sagara Makmur" in place
    assert "Tarumajaya" in place
    note = page.texts(".period-note")[0]
    assert "Data for Q3 2026 (July-September)," in note
    assert "2026Q3" not in page.text, "a period code shown to a citizen"
    assert f"updated on {published_on_en(app, '2026Q3')}" in note
    assert page.texts(".member__name") == ["B*** S******", "S*** A*****", "A**** F****"]
    assert page.texts(".member__programs") == ["Receiving: PKH, BPNT, PBI-JK"] * 3
    assert programs_in_scope(page)["PKH"] == "received"
    assert programs_in_scope(page)["ATENSI"] == "by assessment"
    assert_no_full_names(page)


def test_in_scope_household_without_programs_explains_quotas_and_suggests_usulan(
    client: Client, factory
) -> None:
    house = factory.household(desil=4, programs=())
    factory.publish("2026Q3", [house])

    page = look_up(client, house.members[0].nik, house.no_kk, status=200)

    assert "no bansos" in page.h1
    assert page.texts(".desil-card__label") == ["vulnerable"]
    assert set(page.texts(".member__programs")) == {"Not receiving a program yet in this period"}
    scope = programs_in_scope(page)
    assert scope.pop("ATENSI") == "by assessment"
    scope.pop("PIP")  # depends on the children's ages (tests/lookup/test_honest_results.py)
    assert set(scope.values()) == {"not yet received"}
    explained = " ".join(page.texts("section"))
    assert "quotas" in explained
    assert "verval" in explained
    assert "usulan" in " ".join(page.texts(".next-step"))
    assert_no_full_names(page)


def test_partly_receiving_household_marks_in_scope_programs_it_does_not_get(
    client: Client, factory
) -> None:
    house = factory.household(desil=3, programs=("PBI-JK",))
    factory.publish("2026Q3", [house])

    page = look_up(client, house.members[0].nik, house.no_kk, status=200)

    scope = programs_in_scope(page)
    scope.pop("PIP")  # depends on the children's ages (tests/lookup/test_honest_results.py)
    assert scope == {
        "PKH": "not yet received",
        "BPNT": "not yet received",
        "PBI-JK": "received",
        "ATENSI": "by assessment",
    }
    assert "usulan" in " ".join(page.texts(".next-step"))
    assert_no_full_names(page)


def test_household_above_desil_range_is_told_it_counts_as_well_off_and_may_file_sanggahan(
    client: Client, factory
) -> None:
    house = factory.household(desil=8, programs=())
    factory.publish("2026Q3", [house])

    page = look_up(client, house.members[0].nik, house.no_kk, status=200)

    assert "above the range" in page.h1
    assert page.texts(".desil-card__number") == ["Desil 8"]
    assert page.texts(".desil-card__label") == ["upper middle / well-off"]
    assert "well-off" in " ".join(page.texts("section"))
    assert page.soup.select(".program") == []
    # no "yet": nothing says the programs are on their way to a family above their range
    assert set(page.texts(".member__programs")) == {"No program in this period"}
    assert "sanggahan" in " ".join(page.texts(".next-step"))
    assert_no_full_names(page)


def test_household_removed_in_last_update_is_told_which_period_it_was_in(
    client: Client, factory
) -> None:
    gone, stays = factory.household(), factory.household()
    factory.publish("2026Q2", [gone, stays])
    factory.publish("2026Q3", [stays])

    page = look_up(client, gone.members[0].nik, gone.no_kk, status=200)

    assert "not in the latest data" in page.h1
    lead = page.texts(".lead")[0]
    assert "was in DTSEN in Q2 2026 (April-June) but" in lead, lead
    assert "update for Q3 2026 (July-September)" in lead, lead
    assert "sanggahan" in main_text(page)
    assert len(page.soup.select(".member")) == len(gone.members)  # what it held then
    assert_no_full_names(page)


def test_valid_unknown_pair_shows_not_found_with_how_to_be_proposed(
    client: Client, factory
) -> None:
    factory.publish("2026Q3", [factory.household()])
    nik, no_kk = factory.unknown_pair()

    page = look_up(client, nik, no_kk, status=200)

    assert "No family found" in page.h1
    assert "usulan" in main_text(page)
    assert page.soup.select(".member") == []


# --- no oracle -----------------------------------------------------------------------------


def test_every_kind_of_mismatch_gets_the_same_answer(client: Client, factory, app) -> None:
    a, b = factory.household(), factory.household()
    factory.publish("2026Q3", [a, b])
    unknown_nik, unknown_kk = factory.unknown_pair()
    pairs = {
        "unknown NIK, unknown KK": (unknown_nik, unknown_kk),
        "known NIK, unknown KK": (a.members[0].nik, unknown_kk),
        "unknown NIK, known KK": (unknown_nik, a.no_kk),
        "NIK of A, KK of B": (a.members[0].nik, b.no_kk),
    }

    pages = {label: look_up(client, nik, kk) for label, (nik, kk) in pairs.items()}

    assert {label: p.status for label, p in pages.items()} == dict.fromkeys(pairs, 200)
    hops = {(r.status_code, r.headers["Location"]) for p in pages.values() for r in p.redirects}
    assert hops == {(303, "/hasil")}, "the POSTs answer differently"
    mains = {main_text(p) for p in pages.values()}
    assert len(mains) == 1, mains
    bodies = {p.response.get_data() for p in pages.values()}
    assert len(bodies) == 1, "the mismatch bodies differ"
    assert "No family found" in next(iter(pages.values())).h1
    assert access_events(app) == []


# --- the access log ------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["receiving", "in_scope", "above_range", "removed"])
def test_each_successful_match_writes_one_access_event_with_a_coarse_ip_prefix(
    client: Client, factory, app: Flask, outcome: str
) -> None:
    house = {
        "receiving": lambda: factory.household(desil=2),
        "in_scope": lambda: factory.household(desil=4, programs=()),
        "above_range": lambda: factory.household(desil=8, programs=()),
        "removed": factory.household,
    }[outcome]()
    if outcome == "removed":
        factory.publish("2026Q2", [house])
        factory.publish("2026Q3", [factory.household()])
    else:
        factory.publish("2026Q3", [house])

    look_up(
        client,
        house.members[0].nik,
        house.no_kk,
        status=200,
        environ_base={"REMOTE_ADDR": "203.0.113.57"},
    )

    events = access_events(app)
    assert len(events) == 1
    event = events[0]
    assert (event.actor, event.channel, event.period) == ("citizen", "web", "2026Q3")
    assert event.ip_prefix == "203.0.113.0/24"
    stored = " ".join(str(getattr(event, c.key)) for c in AccessEvent.__table__.columns)
    assert "203.0.113.57" not in stored
    assert house.no_kk not in stored
    assert house.members[0].nik not in stored


def test_a_miss_writes_no_access_event(client: Client, factory, app: Flask) -> None:
    factory.publish("2026Q3", [factory.household()])
    look_up(client, *factory.unknown_pair(), status=200)
    assert access_events(app) == []


# --- service unavailable -------------------------------------------------------------------


def test_no_published_snapshot_is_service_unavailable_not_not_found(
    client: Client, factory
) -> None:
    page = look_up(client, *factory.unknown_pair(), status=503)
    assert "Service unavailable" in page.h1
    assert "No family found" not in page
    assert "does not mean that your data was not found" in main_text(page)


@pytest.fixture
def dead_db_app() -> Iterator[Flask]:
    app = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SECRET_KEY": "x" * 40,
            "NIK_HMAC_KEY": "y" * 40,
        }
    )
    app.test_client_class = Client
    yield app
    app.extensions["db_engine"].dispose()


def test_database_failure_answers_503_with_retry_after_not_not_found(
    dead_db_app: Flask,
) -> None:
    client: Client = dead_db_app.test_client()  # type: ignore[assignment]
    page = look_up(client, "3216014506880002", "3216012005190001", status=503)
    assert page.response.headers["Retry-After"].isdigit()
    assert "Service unavailable" in page.h1
    assert "No family found" not in page
    assert "does not mean that your data was not found" in main_text(page)


def test_connection_lost_after_the_answer_was_made_still_gives_the_answer(
    client: Client, factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL stopping between a request's last statement and its teardown: closing the
    session rolls back on a dead connection and raises. That must not turn the answer
    already made into a 500 (seen once in ten restarts in tests/faults)."""
    house = factory.household(desil=2, programs=("PKH",), size=2)
    factory.publish("2026Q3", [house])
    closes = {"failed": 0}
    close = Session.close

    def dying_close(self: Session) -> None:
        if not closes["failed"]:
            closes["failed"] += 1
            close(self)
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))
        close(self)

    monkeypatch.setattr(Session, "close", dying_close)

    page = look_up(client, house.members[1].nik, house.no_kk, status=200)

    assert closes["failed"] == 1
    assert "receives bansos" in page.h1
    assert page.texts(".member__name") == ["B*** S******", "S*** A*****"]


def test_database_failure_makes_readyz_fail_while_healthz_answers(dead_db_app: Flask) -> None:
    client = dead_db_app.test_client()
    ready, alive = client.get("/readyz"), client.get("/healthz")
    assert (ready.status_code, ready.get_json()) == (503, {"status": "unavailable"})
    assert (alive.status_code, alive.get_json()) == (200, {"status": "ok"})
