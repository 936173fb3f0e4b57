"""The queue of a Dinsos officer: order, keyset pages, filters, counts, "Take the next case",
the case page, contests of one's own decision, and escalation of overdue cases."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from portal import db
from portal.appeals.models import Appeal, AppealEvent
from portal.appeals.states import AppealStatus
from portal.dataimport import queries as snapshots
from portal.review import service
from tests.fixtures.factories import Factory
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client, Page
from tests.review.conftest import (
    BABELAN_DESA,
    DESA,
    KOTA_BEKASI_DESA,
    OTHER_DESA,
    CaseFactory,
    audit,
    count,
    follow,
    get,
    location,
    notices,
    post,
)

S = AppealStatus
DAY = timedelta(days=1)


def listed(client: Client, url: str = "/staf/") -> list[str]:
    page = get(client, url)
    assert page.status == 200, url
    return page.texts("table.table--queue tbody td:first-child a")


def linked(page: Page) -> list[str]:
    heading = page.soup.find("h2", string="Linked cases")
    return (
        [a.get_text(strip=True) for a in heading.find_next("ul").find_all("a")] if heading else []
    )


def test_queue_pages_through_every_case_once_earliest_due_first(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    with app.app_context():
        start = db.utcnow().replace(microsecond=0)
    # 62 cases, four at each due time, so a page boundary falls inside a group of equal dates
    made = [
        cases.make(desa=(DESA, BABELAN_DESA)[i % 2], due_at=start + timedelta(hours=5 - i // 4))
        for i in range(62)
    ]
    cases.make(desa=KOTA_BEKASI_DESA, due_at=start)  # out of scope: never listed
    expected = [c.shown for c in sorted(made, key=lambda c: (cases.get(c).due_at, c.id))]
    client = sign_in(staff.create("verifikator"))

    seen: list[str] = []
    url: str | None = "/staf/?status=diterima"
    pages = 0
    while url:
        page = get(client, url)
        rows = page.texts("table.table--queue tbody td:first-child a")
        assert 0 < len(rows) <= 25
        seen += rows
        pages += 1
        link = page.soup.find("a", string="Next page")
        url = str(link["href"]) if link else None
        assert url is None or "status=diterima" in url, "a filter is lost between pages"
    assert pages == 3
    assert seen == expected  # every case exactly once, in due order (then filing order)


@pytest.mark.parametrize("query", ["overdue=y", "escalated=y"])
def test_overdue_and_escalated_queues_page_through_both_open_states_in_due_order(
    query: str,
    app: Flask,
    staff: StaffFactory,
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    with app.app_context():
        start = db.utcnow().replace(microsecond=0) - timedelta(days=3)
    # open cases of both states interleaved in due order, equal due times across a page
    # boundary, and decided or on-time cases between them that must never be listed
    made = [
        cases.make(
            status=(S.DITERIMA, S.VERIFIKASI)[i % 3 == 0],
            due_at=start + timedelta(hours=i // 3),
            escalated=True,
        )
        for i in range(56)
    ]
    for i in range(10):
        cases.make(status=S.DITOLAK, due_at=start + timedelta(hours=i), escalated=True)
    cases.make(desa=KOTA_BEKASI_DESA, due_at=start, escalated=True)  # out of scope
    if query == "overdue=y":
        cases.make(due_in=DAY)  # open, not yet due
    expected = [c.shown for c in sorted(made, key=lambda c: (cases.get(c).due_at, c.id))]
    client = sign_in(staff.create("verifikator"))

    seen: list[str] = []
    url: str | None = f"/staf/?{query}"
    while url:
        page = get(client, url)
        seen += page.texts("table.table--queue tbody td:first-child a")
        link = page.soup.find("a", string="Next page")
        url = str(link["href"]) if link else None
    assert seen == expected


@pytest.mark.parametrize(
    "cursor",
    [
        "rubbish",
        "x|y",
        "2026-01-01|abc",
        "|",
        "9999-12-31",
        "2026-01-01|5",  # a date without its time zone
        "2026-01-01T00:00:00+00:00|99999999999999999999",  # an id no column can hold
    ],
)
def test_a_garbled_page_cursor_shows_the_first_page(
    cursor: str, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    first = cases.make(due_in=DAY)
    cases.make(due_in=2 * DAY)
    client = sign_in(staff.create("verifikator"))
    assert listed(client, f"/staf/?setelah={quote(cursor)}")[0] == first.shown


@pytest.mark.parametrize(
    "query", ["status=bogus", "reason=%00", "reason=INC-%00", "kecamatan=" + "9" * 300, "overdue=?"]
)
def test_a_filter_value_that_is_not_offered_shows_a_page_not_an_error(
    query: str, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    cases.make()
    page = get(sign_in(staff.create("verifikator")), f"/staf/?{query}")
    assert page.status == 200
    assert page.h1 == "Case queue"


@pytest.fixture
def queue_world(staff: StaffFactory, cases: CaseFactory) -> tuple[Officer, dict[str, str]]:
    """A verifikator and labelled cases of Kabupaten Bekasi, plus one in Kota Bekasi."""
    me = staff.create("verifikator")
    colleague = staff.create("verifikator", enrol=False)
    made = {
        "a": cases.make(desa=DESA, due_in=5 * DAY),
        "b": cases.make(
            desa=BABELAN_DESA, status=S.VERIFIKASI, reason="INC-ASN", assigned_to=me.id
        ),
        "c": cases.make(
            desa=OTHER_DESA,
            status=S.VERIFIKASI,
            assigned_to=colleague.id,
            due_in=-2 * DAY,
            escalated=True,
        ),
        "d": cases.make(
            status=S.DISETUJUI,
            reason="INC-ASN",
            decided_by=colleague.id,
            due_in=-5 * DAY,
            escalated=True,
        ),
        "e": cases.make(desa=BABELAN_DESA, reason="EXC-DICORET", due_in=-1 * DAY),
        "x": cases.make(desa=KOTA_BEKASI_DESA, reason="INC-ASN", due_in=-3 * DAY),
    }
    return me, {label: case.shown for label, case in made.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "dceab"),
        ("status=verifikasi", "cb"),
        ("reason=INC-ASN", "db"),
        ("kecamatan=32.16.02", "eb"),
        ("overdue=y", "ce"),
        ("mine=y", "b"),
        ("escalated=y", "c"),
        ("status=diterima&overdue=y", "e"),
        ("kecamatan=32.75.01", ""),  # a kecamatan of another kabupaten shows nothing
    ],
)
def test_queue_filters_narrow_the_cases_in_scope(
    query: str,
    expected: str,
    queue_world: tuple[Officer, dict[str, str]],
    sign_in: Callable[[Officer], Client],
) -> None:
    me, shown = queue_world
    assert listed(sign_in(me), f"/staf/?{query}") == [shown[label] for label in expected]


def test_queue_counts_cases_per_state_and_overdue_ones(
    queue_world: tuple[Officer, dict[str, str]], sign_in: Callable[[Officer], Client]
) -> None:
    me, _shown = queue_world
    page = get(sign_in(me), "/staf/?reason=INC-ASN")
    counts = page.texts("ul.counts li")
    assert "Received: 0" in counts  # the other filters apply to the counts too
    assert "In review: 1" in counts
    assert "Approved: 1" in counts
    # overdue open cases in the whole scope: c and e (d is decided, x is elsewhere)
    assert "2 cases are overdue." in page.texts(".notice--error strong")


def test_take_the_next_case_claims_the_earliest_due_unassigned_case(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    me = staff.create("verifikator")
    colleague = staff.create("verifikator", enrol=False)
    cases.make(desa=KOTA_BEKASI_DESA, due_in=-9 * DAY)  # earlier, but not in scope
    cases.make(status=S.VERIFIKASI, assigned_to=colleague.id, due_in=-8 * DAY)  # taken
    cases.make(status=S.DITOLAK, decided_by=colleague.id, due_in=-7 * DAY)  # decided
    later = cases.make(due_in=3 * DAY)
    earliest = cases.make(desa=BABELAN_DESA, due_in=-1 * DAY)
    client = sign_in(me)

    page = post(client, "/staf/ambil-berikutnya")
    assert location(page) == f"/staf/kasus/{earliest.id}"
    assert notices(follow(client, page), "success") == [f"Case {earliest.shown} is now yours."]
    taken = cases.get(earliest)
    assert (taken.status, taken.assigned_to_id) == (S.VERIFIKASI.value, me.id)
    assert cases.events(earliest) == ["diterima", "verifikasi"]
    assert cases.get(later).assigned_to_id is None
    assert [e.target_id for e in audit(app, "claim")] == [earliest.id]


def test_take_the_next_case_with_nothing_waiting_says_so(
    staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    cases.make(desa=KOTA_BEKASI_DESA)
    client = sign_in(staff.create("admin_dinsos"))
    page = post(client, "/staf/ambil-berikutnya")
    assert location(page) == "/staf/"
    assert notices(follow(client, page), "info") == ["No unassigned case is waiting."]


@pytest.mark.parametrize("role", ["operator_desa", "pusat"])
def test_roles_that_do_not_decide_cannot_take_the_next_case(
    role: str, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    case = cases.make()
    client = sign_in(staff.create(role))
    assert "Take the next case" not in get(client, "/staf/")
    assert post(client, "/staf/ambil-berikutnya").status == 403
    assert cases.get(case).assigned_to_id is None


def test_case_page_shows_household_periods_linked_cases_field_checks_and_history(
    app: Flask,
    factory: Factory,
    staff: StaffFactory,
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    house = factory.household(desil=4, size=2)
    factory.publish("2026Q2", [dataclasses.replace(house, desil=7)])
    factory.publish("2026Q3", [house])
    with app.app_context():
        kk = snapshots.pseudonym(house.no_kk, "kk")
    me = staff.create("verifikator")
    operator = staff.create("operator_desa", enrol=False)
    root = cases.make(subject_kk_hmac=kk)
    case = cases.make(status=S.VERIFIKASI, assigned_to=me.id, subject_kk_hmac=kk, cluster_of=root)
    original = cases.make(status=S.DITOLAK, decided_by=operator.id)
    contest = cases.make(contests=original)
    cases.field_check(case, me.id, done_by=operator.id)
    cases.field_check(case, me.id, desa=OTHER_DESA)
    client = sign_in(me)

    page = get(client, f"/staf/kasus/{case.id}")
    assert page.status == 200
    assert page.texts(".household h3") == ["Period 2026Q3: desil 4", "Period 2026Q2: desil 7"]
    assert house.members[0].nik in page.text  # staff verify the full numbers
    assert linked(page) == [root.shown]
    checks = page.texts(".field-check")
    assert len(checks) == 2
    assert "The family lives there, as reported." in checks[0]
    assert "Waiting for the operator." in checks[1]
    assert page.texts(".timeline__title") == ["Received", "In review"]
    assert "Decide" in page.texts(".actions-row a")

    contest_page = get(client, f"/staf/kasus/{contest.id}")
    assert linked(contest_page) == [original.shown]
    assert "the decision contested here" in contest_page


def test_the_officer_who_decided_a_case_cannot_take_or_decide_its_contest(
    staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    me, other = staff.create("verifikator"), staff.create("admin_dinsos")
    original = cases.make(status=S.DITOLAK, decided_by=me.id)
    contest = cases.make(contests=original)
    client = sign_in(me)

    page = post(client, f"/staf/kasus/{contest.id}/ambil")
    assert notices(follow(client, page), "error") == [
        "This case contests your own decision: another officer must handle it."
    ]
    assert cases.get(contest).assigned_to_id is None
    assert notices(follow(client, post(client, "/staf/ambil-berikutnya")), "info") == [
        "No unassigned case is waiting."
    ]
    assert cases.events(contest) == ["diterima"]

    held = cases.make(
        status=S.VERIFIKASI,
        assigned_to=me.id,
        contests=cases.make(status=S.DISETUJUI, decided_by=me.id),
    )
    page = post(
        client,
        f"/staf/kasus/{held.id}/putuskan",
        {
            "decision": "disetujui",
            "reason": "documents_confirm",
            "note": "The documents confirm the household's situation.",
        },
    )
    assert page.status == 400
    assert page.texts(".error-summary__list li") == [
        "This case contests your own decision: another officer must decide it."
    ]
    assert cases.get(held).status == S.VERIFIKASI.value

    other_client = sign_in(other)
    post(other_client, f"/staf/kasus/{contest.id}/ambil")
    assert cases.get(contest).assigned_to_id == other.id


def test_escalation_flags_overdue_open_cases_once_and_never_decides_them(
    app: Flask,
    runner: FlaskCliRunner,
    staff: StaffFactory,
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    colleague = staff.create("verifikator", enrol=False)
    waiting = cases.make(due_in=-2 * DAY)
    in_review = cases.make(status=S.VERIFIKASI, assigned_to=colleague.id, due_in=-1 * DAY)
    elsewhere = cases.make(desa=KOTA_BEKASI_DESA, due_in=-1 * DAY)
    on_time = cases.make(due_in=DAY)
    decided = cases.make(status=S.DITOLAK, decided_by=colleague.id, due_in=-3 * DAY)
    overdue = {waiting.id, in_review.id, elsewhere.id}
    before = {c.id: (cases.get(c).status, cases.events(c)) for c in (waiting, in_review, decided)}

    with app.app_context():
        flagged = service.escalate_overdue()
        assert {a.id for a in flagged} == overdue
        again = service.escalate_overdue()
        assert again == []
    result = runner.invoke(args=["review", "escalate"])
    assert result.exit_code == 0
    assert "escalated 0 overdue case(s)" in result.output

    events = audit(app, "escalate")
    assert sorted(e.target_id for e in events) == sorted(overdue)  # exactly once each
    assert all(e.staff_id is None for e in events)
    for c in (waiting, in_review, decided):  # nothing decided, no move recorded
        assert (cases.get(c).status, cases.events(c)) == before[c.id]
    assert cases.get(on_time).escalated_at is None
    assert cases.get(decided).escalated_at is None
    assert count(app, AppealEvent, AppealEvent.to_status.in_(["disetujui", "ditolak"])) == 1
    assert count(app, Appeal, Appeal.status == "diterima") == 3

    admin = sign_in(staff.create("admin_dinsos"))
    assert sorted(listed(admin, "/staf/?escalated=y")) == sorted([waiting.shown, in_review.shown])
    assert "escalated" in get(admin, f"/staf/kasus/{waiting.id}").texts(".status-line strong")
