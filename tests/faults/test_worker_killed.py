"""A gunicorn worker killed (SIGKILL: out of memory, a crash) while citizens send their cases
at the same moment. A browser that lost its answer shows an error and the person presses the
button again. Whatever a receipt showed exists exactly once, and a retry files nothing twice
(README: "the case is committed before the receipt shows; a retried POST files nothing
twice")."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from portal.appeals import tickets
from tests.appeals.conftest import World, answers_for, walk
from tests.faults.conftest import Served
from tests.faults.live import DROPPED, HttpBrowser
from tests.helpers import Page

log = logging.getLogger(__name__)

CLIENTS = 8
KILL_ROUNDS = 4
TRIES = 20  # presses of the button before a person gives up


@dataclass
class Citizen:
    browser: HttpBrowser
    nik: str
    token: str = ""
    dropped: int = 0  # sends whose answer never came (the worker died)
    posted: list[float] = field(default_factory=list)  # when each send left
    ticket: str = ""
    error: str = ""


def press(citizen: Citizen, method: str, url: str, data: dict[str, Any] | None = None) -> Page:
    """Send until an answer comes, as a person presses the button again after an error."""
    for __ in range(TRIES):
        if method == "POST":
            citizen.posted.append(time.time())
        try:
            return Page(citizen.browser.open(method, url, data))
        except DROPPED:
            citizen.dropped += 1
            time.sleep(0.05)
    raise AssertionError(f"{method} {url}: no answer after {TRIES} tries")


def send_case(citizen: Citizen, start: threading.Barrier) -> None:
    start.wait()
    try:
        page = press(
            citizen,
            "POST",
            "/sanggahan/periksa",
            {"csrf_token": citizen.token, "declaration": "y"},
        )
        location = page.response.headers.get("Location", "")
        if page.status != 302 or not location.endswith("/tanda-terima"):
            citizen.error = f"send: {page.status} {page.h1!r} {page.error_summary_text()}"
            return
        receipt = press(citizen, "GET", "/tanda-terima")
        shown = receipt.texts(".ticket")
        if receipt.status != 200 or not shown:
            citizen.error = f"receipt: {receipt.status} {receipt.h1!r}"
            return
        citizen.ticket = shown[0]
    except Exception as exc:  # reported by the test
        citizen.error = repr(exc)


def kill_workers(
    served: Served, start: threading.Barrier, killed: list[int], niks: list[str]
) -> None:
    """SIGKILL every worker a few ms after the sends left (they die before their commit), then
    each time a case has just been committed (they die before the receipt is sent), once
    gunicorn has replaced them."""
    start.wait()
    time.sleep(0.015)
    kill_all(served, killed)
    filed = 0
    with served.engine.connect() as conn:
        for __ in range(KILL_ROUNDS - 1):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                now = conn.execute(COUNT, {"niks": niks}).scalar_one()
                conn.rollback()  # a fresh snapshot for the next poll
                if now > filed:
                    filed = now
                    break
            kill_all(served, killed)


COUNT = text("SELECT count(*) FROM appeals WHERE filer_nik = ANY(:niks)")


def kill_all(served: Served, killed: list[int]) -> None:
    """SIGKILL the current workers; return once gunicorn has started their replacements."""
    for pid in served.portal.workers():
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if len([p for p in served.portal.workers() if p not in killed]) == 2:
            return
        time.sleep(0.005)


def test_cases_sent_while_workers_are_killed_exist_exactly_once_with_the_receipts_ticket(
    served: Served,
) -> None:
    houses = served.demo.current[100 : 100 + 2 * CLIENTS]
    unknown = served.demo.showcase["unknown"]
    citizens = []
    for i in range(CLIENTS):
        filer, about = houses[2 * i], houses[2 * i + 1]
        world = World(filer, about, about, (unknown["nik"], unknown["no_kk"]))
        citizen = Citizen(served.browser(f"198.51.100.{50 + i}"), filer.members[0].nik)
        check = walk(citizen.browser, "sanggahan", answers_for(world, "INC-MAMPU"))
        form = citizen.browser.page(check).soup.find("form", method="post")
        citizen.token = str(form.find("input", attrs={"name": "csrf_token"})["value"])
        citizens.append(citizen)
    master = served.portal.master
    start = threading.Barrier(CLIENTS + 1)
    killed: list[int] = []
    threads = [threading.Thread(target=send_case, args=(c, start)) for c in citizens]
    threads.append(
        threading.Thread(
            target=kill_workers, args=(served, start, killed, [c.nik for c in citizens])
        )
    )
    began = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    rows = served.query(
        "SELECT a.ticket, a.filer_nik, a.created_at,"
        " (SELECT count(*) FROM appeal_events e WHERE e.appeal_id = a.id) AS events"
        " FROM appeals a WHERE a.filer_nik = ANY(:niks) AND a.created_at > to_timestamp(:began)",
        niks=[c.nik for c in citizens],
        began=began,
    )
    statuses = [s for c in citizens for s in c.browser.statuses]
    by_filer: dict[str, list[Any]] = {}
    for row in rows:
        by_filer.setdefault(row.filer_nik, []).append(row)
    # a send whose worker died after the commit: the case is older than the last send
    unanswered_commits = sum(
        1
        for c in citizens
        if len(c.posted) > 1
        and c.nik in by_filer
        and by_filer[c.nik][0].created_at.timestamp() < c.posted[-1]
    )
    log.info(
        "%d citizens sent at once, %d workers killed in %d rounds, %d sends lost and sent "
        "again, %d cases committed by a send whose answer was lost; %d receipts, %d cases",
        CLIENTS,
        len(killed),
        KILL_ROUNDS,
        sum(c.dropped for c in citizens),
        unanswered_commits,
        sum(bool(c.ticket) for c in citizens),
        len(rows),
    )

    assert not any(t.is_alive() for t in threads), "a send hangs"
    assert [c.error for c in citizens if c.error] == []
    assert 500 not in statuses
    assert killed, "no worker was killed"
    assert sum(c.dropped for c in citizens) > 0, "no send was in flight when a worker died"
    for citizen in citizens:
        filed = by_filer.get(citizen.nik, [])
        assert len(filed) == 1, f"{len(filed)} cases from one draft (sent {citizen.dropped + 1}x)"
        assert filed[0].ticket == tickets.normalise(citizen.ticket), "the receipt shows another"
        assert filed[0].events >= 1, "a case without its history"
    assert served.portal.master == master
    assert len(served.portal.workers()) == 2, "gunicorn did not replace the killed workers"
