"""One policy for every check against DTSEN (portal/policy.py): each check is limited per
client network and per number, misses about a number count on every route, nobody can
lock a number's owner out, and no route can run a check without the policy."""

from __future__ import annotations

import inspect
import re

import pytest
from flask import Flask, g
from sqlalchemy import event

from portal import policy
from portal.dataimport import queries as snapshots
from tests.appeals.conftest import answers_for, submit, walk
from tests.helpers import Client, Page


def heir(client: Client, deceased: str, heir_nik: str, **extra: str) -> Page:
    data = {"deceased_nik": deceased, "heir_nik": heir_nik, **extra}
    return client.post_form("/usulan/ahli-waris", data)


# --- the heir step is no longer a free oracle -----------------------------------------------


def test_heir_probes_are_limited_per_client_network(
    limited_app: Flask, limited_client: Client, limited_world
) -> None:
    limited_app.config["APPEAL_LIMIT"] = "4 per minute"
    answers = answers_for(limited_world, "USUL-AHLI-WARIS")
    walk(limited_client, "usulan", answers, stop_at="ahli-waris")  # 1 filer check
    recipient = limited_world.filer.members[0].nik
    strangers = [m.nik for m in limited_world.other.members + limited_world.third.members]

    statuses = [heir(limited_client, recipient, nik).status for nik in strangers[:4]]

    # refused (303 back to the page with the error), then over APPEAL_LIMIT's 4 with the 1st
    assert statuses == [303, 303, 303, 429]


def test_heir_misses_count_for_the_numbers_everywhere(
    limited_app: Flask, limited_client: Client, limited_world
) -> None:
    limited_app.config["APPEAL_LIMIT"] = "100 per minute"
    walk(
        limited_client,
        "usulan",
        answers_for(limited_world, "USUL-AHLI-WARIS"),
        stop_at="ahli-waris",
    )
    recipient = limited_world.filer.members[0].nik
    strangers = [m.nik for m in limited_world.other.members + limited_world.third.members]
    for nik in strangers[:3]:  # DTSEN_FREE_MISSES is 3 in limited_app
        assert heir(limited_client, recipient, nik).status == 303

    real_heir = heir(limited_client, recipient, limited_world.filer.members[1].nik)
    assert real_heir.status == 429, "a check about a number with many misses must wait"
    assert real_heir.soup.find("input", attrs={"name": "wait"}) is not None
    own_lookup = limited_client.post_form(
        "/", {"nik": recipient, "no_kk": limited_world.filer.no_kk}
    )
    assert own_lookup.status == 429  # the recipient's NIK: the same bucket on every route


def test_the_heir_check_costs_the_same_whichever_person_is_not_on_the_card(
    app: Flask, world
) -> None:
    from portal.appeals import errors, filers

    kk = world.filer.no_kk
    member, stranger = world.filer.members[0].nik, world.other.members[0].nik
    counts = {}
    statements: list[str] = []
    engine = app.extensions["db_engine"]

    def listener(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        for case, pair in {
            "first missing": (stranger, member),
            "second missing": (member, stranger),
            "both missing": (stranger, stranger),
        }.items():
            statements.clear()
            with app.test_request_context():
                g.dtsen_admitted = True
                with pytest.raises(errors.HeirNotInHousehold):
                    filers.check_heir(kk, *pair)
            counts[case] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(set(counts.values())) == 1, counts


# --- nobody can lock an owner out ---------------------------------------------------------------


def test_unverified_filings_as_someone_do_not_use_up_their_filing_allowance(
    app: Flask, client: Client, world
) -> None:
    """Anyone may file an usulan for a household missing from DTSEN "as" any NIK."""
    app.config["APPEAL_FILER_LIMIT"] = "2 per day"
    victim = world.filer
    stranger_kk = world.stranger[1]
    for __ in range(3):
        answers = answers_for(world, "EXC-TIDAK-TERDATA")
        answers["pelapor"] = {"nik": victim.members[0].nik, "no_kk": stranger_kk}  # unverified
        attacker = Client(app, app.response_class)
        walk(attacker, "usulan", answers)
        assert submit(attacker, "usulan").status == 302

    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))  # the victim, verified
    assert submit(client, "sanggahan").status == 302


def test_the_open_case_cap_does_not_tell_whether_two_people_share_a_card(
    client: Client, world
) -> None:
    """Two open cases about one person: a third about a household member is not refused,
    or the refusal would say that the two are on one family card."""
    first, second = world.other.members[0], world.other.members[1]
    for code in ("INC-MAMPU", "INC-ASN"):
        answers = answers_for(world, code)
        answers["subjek"] = {**answers["subjek"], "subject_nik": first.nik}
        walk(client, "sanggahan", answers)
        assert submit(client, "sanggahan").status == 302
    answers = answers_for(world, "INC-PINDAH")
    answers["subjek"] = {**answers["subjek"], "subject_nik": second.nik}
    walk(client, "sanggahan", answers)

    assert submit(client, "sanggahan").status == 302


# --- no route can skip the policy ----------------------------------------------------------


def test_a_dtsen_question_in_a_public_request_without_admission_is_refused(app: Flask) -> None:
    with app.test_request_context("/"), app.app_context():
        with pytest.raises(policy.UnguardedCheck):
            snapshots.matching_snapshots("a" * 32, "b" * 32, [1])
        g.dtsen_admitted = True
        assert snapshots.matching_snapshots("a" * 32, "b" * 32, [1]) == set()


# The functions that answer a DTSEN question for whoever asks.
QUESTIONS = re.compile(
    r"\b(service\.lookup|service\.record_lookup|verify_filer|check_heir|find_for_tracking|"
    r"suggest_ticket|"
    r"verify_member|matching_snapshots|_check_step|service\.submit|service\.prove)\("
)


def test_every_view_that_asks_dtsen_declares_its_checks(app: Flask) -> None:
    undeclared = []
    declared = {}
    for endpoint, view in app.view_functions.items():
        source = inspect.getsource(inspect.unwrap(view))
        if QUESTIONS.search(source):
            kinds = getattr(view, "dtsen_checks", ())
            if not kinds:
                undeclared.append(endpoint)
            declared[endpoint] = sorted(k.value for k in kinds)
    assert undeclared == []
    assert declared == {
        "lookup.index": ["lookup"],
        "lookup.result": ["lookup"],  # shows again what lookup.index found (policy.recheck)
        "appeals.step": ["filer", "heir"],
        "tracking.track": ["track"],
        "appeals.check": ["filer"],
        "my_cases.index": ["lookup"],
    }


# --- the usulan filer step and the ticket suggestion are checks too ----------------------------


def test_an_unverified_filer_step_is_a_miss_for_the_numbers(
    limited_app: Flask, limited_client: Client, limited_world
) -> None:
    """An usulan for a household missing from DTSEN may be filed unverified: the step goes on,
    but the pair was not in DTSEN, so it counts as a miss like the look-up's "not found"."""
    limited_app.config["APPEAL_LIMIT"] = "100 per minute"
    victim = limited_world.filer
    limited_client.post_form("/usulan/alasan", {"reason": "EXC-TIDAK-TERDATA"})
    for kk in (limited_world.other.no_kk, limited_world.third.no_kk, limited_world.stranger[1]):
        page = limited_client.post_form(
            "/usulan/pelapor", {"nik": victim.members[0].nik, "no_kk": kk}
        )
        assert page.status == 302  # filed unverified: allowed for this reason

    owner = limited_client.post_form("/", {"nik": victim.members[0].nik, "no_kk": victim.no_kk})
    assert owner.status == 429
    assert owner.soup.find("input", attrs={"name": "wait"}) is not None


def test_asking_for_ticket_suggestions_with_other_niks_is_limited_like_tracking(
    limited_app: Flask, limited_client: Client, limited_world
) -> None:
    """'Did you mean' names a ticket of the filer's NIK: every wrong NIK tried with a typo is a
    miss, so guessing whose ticket it is slows down like any other check."""
    from tests.appeals.test_tracking import one_symbol_off

    limited_app.config["TRACK_LIMIT"] = "100 per minute"
    walk(limited_client, "sanggahan", answers_for(limited_world, "INC-MAMPU"))
    assert submit(limited_client, "sanggahan").status == 302
    ticket = limited_client.page("/tanda-terima").texts(".ticket")[0]
    typo = one_symbol_off(ticket)
    others = [m.nik for m in limited_world.other.members + limited_world.third.members]
    for nik in others[:3]:  # DTSEN_FREE_MISSES is 3 in limited_app
        page = limited_client.post_form("/lacak", {"ticket": typo, "nik": nik})
        assert "Did you mean" not in page

    waiting = limited_client.post_form("/lacak", {"ticket": typo, "nik": limited_world.filer_nik})
    assert waiting.status == 429
    assert "Did you mean" not in waiting
