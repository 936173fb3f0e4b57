""" "Riwayat pengecekan" (issue 13, part 1): after a successful look-up the household sees who
opened its data in the last 12 months, as kinds of reader (itself, Dinsos by role and
office, the desa operator, the export), never a person, an address or an IP; opened only by
the look-up's server-side reference, like the result page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from portal import db
from portal.access import Purpose, Reader, record
from portal.access import history as access_history
from portal.auth.models import StaffUser
from portal.dataimport.demo import House
from portal.lookup.models import AccessEvent
from portal.replay.models import LookupReference
from tests.access.helpers import RECORD, kk_of, look_up, record_page, rows
from tests.fixtures.factories import Factory
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client, Page
from tests.review.conftest import CaseFactory, get

EXPIRED = "For your family's privacy, a result is shown for 30 minutes only."
UPDATED = "The data was updated since your check."
LOOKUP_WHO = "You or your family (this website)"
CASE_WHY = "Opened a sanggahan or usulan about your family to handle it"


@pytest.fixture
def town(factory: Factory) -> tuple[House, House]:
    """Two households of Sagara Makmur (Kabupaten Bekasi)."""
    ours = factory.household(desil=2, size=3, alamat="KP. SAGARA RT 002/RW 005")
    theirs = factory.household(desil=4, size=2, alamat="KP. PASAR RT 001/RW 001")
    factory.publish("2026Q3", [ours, theirs])
    return ours, theirs


def lines(page: Page) -> list[tuple[str, str]]:
    """(who, why) of each line of the record, newest first."""
    return list(zip(page.texts(".access-line__who"), page.texts(".access-line__why"), strict=True))


def test_the_record_shows_the_staff_view_made_while_deciding_the_case(
    app: Flask,
    client: Client,
    town: tuple[House, House],
    cases: CaseFactory,
    staff: StaffFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    ours, theirs = town
    case = cases.make(subject_kk_hmac=kk_of(app, ours))
    other = cases.make(subject_kk_hmac=kk_of(app, theirs))
    officer = staff.create("verifikator")
    desk = sign_in(officer)
    assert get(desk, f"/staf/kasus/{case.id}").status == 200
    assert get(desk, f"/staf/kasus/{other.id}").status == 200  # another family's case

    result = look_up(client, ours)
    link = result.soup.select_one(".access-link a")
    assert link is not None
    assert link["href"] == RECORD
    page = record_page(client, str(link["href"]))

    assert page.h1 == "Access record: who looked at your family's data"
    assert lines(page) == [
        (LOOKUP_WHO, "Checked the family's DTSEN status with a NIK and the No. KK of its card"),
        ("Dinsos Kabupaten Bekasi — verifier", CASE_WHY),
    ], "one line for the look-up just made, one for the officer's view, none of the other case"
    assert page.texts(".access-line__count") == [], "each line is one read"
    assert "WIB" in page.texts(".access-line__when")[1]
    # the kind of reader, never the person, an address or the network
    with app.app_context():
        user = db.session.get(StaffUser, officer.id)
        assert user is not None
        name = user.name
    for secret in (name, officer.email, "dinsos.example", "203.0.113", ours.alamat, "SAGARA RT"):
        assert secret not in page.text, f"{secret!r} leaks into the access record"
    for member in ours.members:
        assert member.nama not in page.text
    # reading the record is not a read of the family's data
    assert len(rows(app, kk_of(app, ours))) == 2


def test_in_indonesian(app: Flask, client: Client, town: tuple[House, House]) -> None:
    ours, _theirs = town
    look_up(client, ours, lang="id")
    page = record_page(client)
    assert page.lang == "id"
    assert page.h1 == "Riwayat pengecekan: siapa yang melihat data keluarga Anda"
    assert page.texts(".access-line__who") == ["Anda / keluarga Anda (situs ini)"]


def test_the_households_own_look_ups_are_one_line_a_day(
    app: Flask, client: Client, town: tuple[House, House]
) -> None:
    ours, _theirs = town
    for _time in range(3):
        look_up(client, ours)
    page = record_page(client)
    assert page.texts(".access-line__who") == [LOOKUP_WHO]
    assert page.texts(".access-line__count") == ["3 times"]


def test_each_purpose_is_told_by_kind_of_reader(
    app: Flask, client: Client, town: tuple[House, House], staff: StaffFactory
) -> None:
    """Every purpose, with office names: the field check names the operator's desa."""
    ours, _theirs = town
    kk = kk_of(app, ours)
    verifier, admin = staff.create("verifikator"), staff.create("admin_dinsos")
    operator, pusat = staff.create("operator_desa"), staff.create("pusat")
    with app.app_context():

        def user(o: Officer) -> StaffUser:
            found = db.session.get(StaffUser, o.id)
            assert found is not None
            return found

        record(Purpose.SEARCH, [kk], reader=Reader.staff(user(verifier)))
        record(Purpose.FIELD_CHECK, kk, reader=Reader.staff(user(operator), office="32.16.01.2001"))
        record(Purpose.EXPORT, [kk], reader=Reader.staff(user(admin)))
        record(Purpose.DOWNLOAD, [kk], reader=Reader.staff(user(pusat)))
        db.session.commit()
    look_up(client, ours)
    page = record_page(client)
    assert lines(page) == [
        (LOOKUP_WHO, "Checked the family's DTSEN status with a NIK and the No. KK of its card"),
        (
            "Kemensos (central office)",
            "Downloaded the export to Pusdatin that holds a case about your family",
        ),
        (
            "Export to Pusdatin Kemensos",
            "An approved case about your family was sent for the next DTSEN update",
        ),
        (
            "Desa operator of Sagara Makmur — field verval",
            "Opened the field check of a case about your family",
        ),
        (
            "Dinsos Kabupaten Bekasi — verifier",
            "Searched by name or number: your family, or a case about it, was a result",
        ),
    ]


def test_a_failed_look_up_shows_no_record(
    app: Flask, client: Client, town: tuple[House, House], factory: Factory
) -> None:
    ours, _theirs = town
    with app.app_context():
        record(Purpose.CASE, kk_of(app, ours), reader=Reader("verifikator", "32.16"))
        db.session.commit()
    nik, no_kk = factory.unknown_pair()
    client.choose_language("en")
    result = client.post_form("/", {"nik": nik, "no_kk": no_kk}, follow_redirects=True)
    assert "No family found" in result.h1
    assert result.soup.select_one(".access-link") is None
    # a wrong NIK with the family's real No. KK: not found, and nothing of its record
    client.post_form("/", {"nik": nik, "no_kk": ours.no_kk}, follow_redirects=True)
    page = record_page(client)
    assert page.path == "/hasil"
    assert "No family found" in page.h1
    assert not page.soup.select(".access-line")
    assert "verifier" not in page.text


def test_without_or_with_an_expired_reference_back_to_the_form(
    app: Flask, client: Client, town: tuple[House, House]
) -> None:
    ours, _theirs = town
    client.choose_language("en")
    fresh = record_page(client)
    assert fresh.path == "/"
    assert EXPIRED in fresh.soup.get_text()

    look_up(client, ours)
    with app.app_context():
        past = db.utcnow() - timedelta(seconds=1)
        db.session.execute(update(LookupReference).values(expires_at=past))
        db.session.commit()
    page = record_page(client)
    assert page.path == "/"
    assert EXPIRED in page.soup.get_text()
    assert not page.soup.select(".access-line")


def test_after_a_new_period_is_published_check_again(
    app: Flask, client: Client, town: tuple[House, House], factory: Factory
) -> None:
    ours, theirs = town
    look_up(client, ours)
    factory.publish("2026Q4", [ours, theirs])
    page = record_page(client)
    assert page.path == "/"
    assert UPDATED in page.soup.get_text()


def test_a_malformed_page_is_not_found(client: Client, town: tuple[House, House]) -> None:
    ours, _theirs = town
    look_up(client, ours)
    for bad in ("kemarin", "2026-13-01", "2026-1-1", "x" * 300, "2026-12-01%00"):
        assert client.get(f"{RECORD}?sampai={bad}").status_code == 404, bad
    # the first and the last day a date can be: before the 12 months, and to come
    assert not record_page(client, f"{RECORD}?sampai=0001-01-01").soup.select(".access-line")
    assert len(record_page(client, f"{RECORD}?sampai=9999-12-31").soup.select(".access-line")) == 1


# --- the query: 12 months, pages by whole days, capped ---------------------------------------


def _event(kk: str, at: datetime, purpose: str = "lookup", actor: str = "citizen") -> AccessEvent:
    return AccessEvent(kk_hmac=kk, at=at, channel="web", actor=actor, purpose=purpose)


def test_older_than_twelve_months_is_not_shown_and_older_rows_read_by_actor(
    app: Flask,
) -> None:
    now = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)  # 12:00 WIB
    with app.app_context():
        db.session.add_all(
            [
                _event("k" * 32, now - timedelta(days=366)),
                _event("k" * 32, now - timedelta(days=364)),
                # written before purposes were kept: a desa operator's read
                AccessEvent(
                    kk_hmac="k" * 32,
                    at=now - timedelta(days=3),
                    channel="staff",
                    actor="staff",
                    actor_role="operator_desa",
                ),
                _event("z" * 32, now),  # another household
            ]
        )
        db.session.commit()
        page = access_history.household_record("k" * 32, now=now)
    assert [(line.day.isoformat(), line.purpose) for line in page.lines] == [
        ("2026-11-29", "field_check"),
        ("2025-12-03", "lookup"),
    ]
    assert page.older is None


def test_days_are_wib_days(app: Flask) -> None:
    """23:30 WIB and 00:30 WIB the next day are two days; 17:30 and 18:30 UTC too."""
    base = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 23:30 WIB
    with app.app_context():
        db.session.add_all([_event("w" * 32, base), _event("w" * 32, base + timedelta(hours=1))])
        db.session.commit()
        page = access_history.household_record("w" * 32, now=base + timedelta(hours=2))
    assert [(line.day.isoformat(), line.count) for line in page.lines] == [
        ("2026-12-01", 1),
        ("2026-11-30", 1),
    ]


@pytest.mark.parametrize(("scan", "lines"), [(12, 50), (1000, 3), (5, 2)])
def test_pages_hold_whole_days_and_together_every_event(
    app: Flask, monkeypatch: pytest.MonkeyPatch, scan: int, lines: int
) -> None:
    """Ten days with 1..10 look-ups and a verifier's read each: whatever the caps, the
    pages split no day and add up to every event."""
    monkeypatch.setattr(access_history, "SCAN_ROWS", scan)
    monkeypatch.setattr(access_history, "PAGE_LINES", lines)
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    kk = "p" * 32
    with app.app_context():
        for day in range(10):
            at = now - timedelta(days=day, hours=1)
            db.session.add_all([_event(kk, at - timedelta(minutes=i)) for i in range(day + 1)])
            db.session.add(_event(kk, at, "case", "staff"))
        db.session.commit()
        seen: list[tuple[str, str, int]] = []
        until = None
        for _page in range(40):
            page = access_history.household_record(kk, until=until, now=now)
            seen += [(line.day.isoformat(), line.purpose, line.count) for line in page.lines]
            if page.older is None:
                break
            until = page.older
    expected = [
        ((now - timedelta(days=day)).date().isoformat(), purpose, count)
        for day in range(10)
        for purpose, count in (("case", 1), ("lookup", day + 1))
    ]
    if scan == 5:  # days beyond the scan cap are shown as far as read
        assert {d for d, _p, _c in seen} == {d for d, _p, _c in expected}
        assert len(seen) == len(set(seen))
    else:
        assert sorted(seen, reverse=True) == sorted(expected, reverse=True)
