"""PostgreSQL restarted under the look-up: while it is down every answer is the portal's 503
"service unavailable" page with Retry-After, never a 500 and never "not found" (DOMAIN.md:
a failure must not be confused with "not found"); once it is back, the same gunicorn workers
answer with the household again within seconds: without pool_pre_ping, a worker's stale
connection fails one request (a 503 like the others), SQLAlchemy then replaces the whole pool
(portal.db._ping_when_idle; tests/lookup/test_lookup_cost.py kills a connection to show it)."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from tests.faults.conftest import Served
from tests.faults.live import DROPPED
from tests.helpers import Page

log = logging.getLogger(__name__)

THREADS = 3
PAUSE = 0.02  # between one thread's look-ups: a few per 100 ms in all, not a load test
DOWN_SECONDS = 3.0
RECOVERY_LIMIT = 5.0  # seconds from PostgreSQL accepting again to the household answered again


@dataclass(frozen=True)
class Answer:
    began: float
    ended: float
    kind: str  # household | unavailable | other
    detail: str


def classify(page: Page) -> tuple[str, str]:
    detail = f"{page.status} {page.h1!r}"
    if page.status == 200 and page.soup.select(".member") and "No family found" not in page.h1:
        return "household", detail
    unavailable = page.status == 503 and "Service unavailable" in page.h1
    retry_after = page.response.headers.get("Retry-After", "").isdigit()
    if unavailable and retry_after and "No family found" not in page.text:
        return "unavailable", detail
    return "other", detail


def test_lookups_answer_503_while_postgresql_is_down_and_the_household_once_it_is_back(
    served: Served,
) -> None:
    pair = served.demo.showcase["receiving"]
    master, workers = served.portal.master, served.portal.workers()
    browsers = [served.browser(f"198.51.100.{i + 1}") for i in range(THREADS)]
    tokens = [b.csrf_token("/") for b in browsers]
    answers: list[Answer] = []
    finish = threading.Event()

    def look_up(i: int) -> None:
        data = {"csrf_token": tokens[i], "nik": pair["nik"], "no_kk": pair["no_kk"]}
        while not finish.is_set():
            began = time.monotonic()
            try:
                response = browsers[i].post("/", data=data)
                if response.status_code == 303:  # the result page (Post/Redirect/Get)
                    response = browsers[i].get(response.headers["Location"])
                kind, detail = classify(Page(response))
            except DROPPED as exc:
                kind, detail = "other", f"connection lost: {exc!r}"
            answers.append(Answer(began, time.monotonic(), kind, detail))
            time.sleep(PAUSE)

    threads = [threading.Thread(target=look_up, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        # the household answered a few times first (a worker's first answer renders every
        # template once: on a busy machine that alone can take a second)
        deadline = time.monotonic() + 30
        while sum(a.kind == "household" for a in answers) < THREADS and time.monotonic() < deadline:
            time.sleep(0.05)
        stopping = time.monotonic()
        served.cluster.stop()
        stopped = time.monotonic()
        time.sleep(DOWN_SECONDS)
        starting = time.monotonic()
        served.cluster.start()
        started = time.monotonic()
        deadline = started + RECOVERY_LIMIT + 5
        while time.monotonic() < deadline:
            after = [a for a in answers if a.began > started + 0.5]
            if len(after) >= 30 and all(a.kind == "household" for a in after[-30:]):
                break
            time.sleep(0.2)
    finally:
        finish.set()
        for thread in threads:
            thread.join(timeout=30)
        if not served.cluster.running():
            served.cluster.start()

    before = [a for a in answers if a.ended < stopping]
    down = [a for a in answers if a.began > stopped and a.ended < starting]
    others = [a.detail for a in answers if a.kind == "other"]
    last_failure = max((a.ended for a in answers if a.kind != "household"), default=started)
    back = [a for a in answers if a.began > last_failure]
    first_back = min(
        (a.ended for a in answers if a.began > starting and a.kind == "household"), default=math.inf
    )
    log.info(
        "%d look-ups: %d before the stop, %d while down (%d answered 503); PostgreSQL started "
        "in %.2f s, the household answered again %.2f s after the start began, no failure "
        "after %.2f s; %d answers since",
        len(answers),
        len(before),
        len(down),
        sum(a.kind == "unavailable" for a in down),
        started - starting,
        first_back - starting,
        max(0.0, last_failure - starting),
        len(back),
    )

    assert before, "no look-up before the stop"
    assert all(a.kind == "household" for a in before), "the household was not found at first"
    assert others == [], (
        f"answers that are neither the household nor the 503 page: {others[:5]}\n"
        f"the portal's log, without answered requests:\n{served.portal.log_problems(80)}"
    )
    assert len(down) >= 10, f"only {len(down)} look-ups while PostgreSQL was down"
    assert all(a.kind == "unavailable" for a in down)
    assert last_failure - started < RECOVERY_LIMIT, (
        f"the household was answered again only {last_failure - started:.1f} s after restart"
    )
    assert len(back) >= 30, f"only {len(back)} look-ups after recovery"
    assert (served.portal.master, served.portal.workers()) == (master, workers), (
        "gunicorn or its workers were restarted: the workers must recover on their own"
    )
