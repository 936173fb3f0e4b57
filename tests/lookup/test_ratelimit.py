"""Limits on the look-up (limited_app: LOOKUP_LIMIT "5 per minute" per client network; after
DTSEN_FREE_MISSES=3 misses about a NIK or No. KK, each further check waits 30 s, doubling up to
240 s: portal/policy.py)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import Client, Page


def look_up(client: Client, nik: str, no_kk: str, ip: str = "10.0.0.1") -> Page:
    """POST the look-up and follow its redirect to the result (or back to the form)."""
    client.choose_language("en")
    return client.post_form(
        "/", {"nik": nik, "no_kk": no_kk}, environ_base={"REMOTE_ADDR": ip}, follow_redirects=True
    )


def duration_words(seconds: int) -> str:
    """The wait as the page says it in English: 30 seconds, 1 minute, 4 minutes."""
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def spaced(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def assert_refused_without_naming_the_limit(page: Page) -> None:
    assert page.status == 429
    assert int(page.response.headers["Retry-After"]) > 0
    assert page.h1 == "Too many attempts"
    text = page.soup.get_text(" ", strip=True)
    for telltale in (r"per minute", r"per hour", r"\bIP\b", r"\bNIK\b", r"\b5\b", r"\b3\b"):
        assert not re.search(telltale, text, re.I), f"the 429 page says {telltale!r}"
    assert not [k for k, _ in page.response.headers if k.lower().startswith("x-ratelimit")]
    assert page.soup.select(".member") == []


@pytest.fixture
def two_houses(limited_factory):
    a, b = limited_factory.household(desil=2), limited_factory.household(desil=4)
    limited_factory.publish("2026Q3", [a, b])
    return a, b


def test_sixth_lookup_from_one_ip_within_a_minute_is_refused(
    limited_client: Client, two_houses
) -> None:
    house = two_houses[0]
    for __ in range(5):
        assert look_up(limited_client, house.members[0].nik, house.no_kk).status == 200

    page = look_up(limited_client, house.members[0].nik, house.no_kk)

    assert_refused_without_naming_the_limit(page)


def test_ip_limit_counts_per_address(limited_client: Client, two_houses) -> None:
    house = two_houses[0]
    for __ in range(5):
        look_up(limited_client, house.members[0].nik, house.no_kk, ip="10.0.1.1")
    assert look_up(limited_client, house.members[0].nik, house.no_kk, ip="10.0.1.1").status == 429
    assert look_up(limited_client, house.members[0].nik, house.no_kk, ip="10.0.1.2").status == 200


def wait_token(page: Page) -> str:
    field = page.soup.find("input", attrs={"name": "wait"})
    assert field is not None, "no wait token in the form"
    return str(field["value"])


def look_up_after_wait(client: Client, nik: str, no_kk: str, token: str, ip: str) -> Page:
    data = {"nik": nik, "no_kk": no_kk, "wait": token}
    client.choose_language("en")
    return client.post_form("/", data, environ_base={"REMOTE_ADDR": ip}, follow_redirects=True)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, limited_app):  # type: ignore[no-untyped-def]
    """The policy's clock, moved by hand: clock(31) is 31 s later. (The per-network limit
    is raised: these tests are about the numbers' misses, from a few addresses.)"""
    from portal import policy

    limited_app.config["LOOKUP_LIMIT"] = "100 per minute"
    start = policy._now()
    offset = [0.0]
    monkeypatch.setattr(policy, "_now", lambda: start + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


def test_after_three_misses_the_owner_waits_once_and_is_then_answered(
    limited_client: Client, two_houses, limited_factory, clock
) -> None:
    a, b = two_houses
    nik = a.members[0].nik
    wrong_kks = [b.no_kk, limited_factory.unknown_pair()[1], b.no_kk]
    # the same NIK as people type it: separators do not make it a different NIK
    for n, (typed, kk) in enumerate(zip([nik, spaced(nik), nik], wrong_kks, strict=True), 1):
        page = look_up(limited_client, typed, kk, ip=f"10.0.0.{n}")
        assert page.status == 200
        assert "No family found" in page.h1

    waiting = look_up(limited_client, nik, a.no_kk, ip="10.0.0.4")  # the owner, elsewhere

    assert waiting.status == 429
    notice = waiting.soup.select_one(".notice--error").get_text(" ")
    assert "Wait 30 seconds" in notice
    # the clock time says its zone, as the access record does
    assert re.search(r"After \d[^,]* WIB, type the numbers again", notice), notice
    assert waiting.soup.find("input", attrs={"name": "nik"})["value"] == ""  # not echoed
    assert waiting.soup.select(".member") == []
    token = wait_token(waiting)
    assert look_up_after_wait(limited_client, nik, a.no_kk, token, "10.0.0.4").status == 429
    clock(31)
    answered = look_up_after_wait(limited_client, nik, a.no_kk, token, "10.0.0.4")
    assert answered.status == 200
    assert "receives bansos" in answered.h1
    again = look_up_after_wait(limited_client, nik, a.no_kk, token, "10.0.0.4")
    assert again.status == 429, "a wait token works once"

    other = look_up(limited_client, b.members[0].nik, b.no_kk, ip="10.0.0.4")
    assert other.status == 200
    assert "in DTSEN" in other.h1


def test_every_further_miss_doubles_the_wait_up_to_the_maximum(
    limited_client: Client, two_houses, limited_factory, clock
) -> None:
    a, b = two_houses
    nik = a.members[0].nik
    for n in range(3):
        look_up(limited_client, nik, b.no_kk, ip=f"10.0.5.{n}")
    waits = []
    for _round in range(6):
        page = look_up(limited_client, nik, b.no_kk, ip="10.0.5.9")
        seconds = int(page.response.headers["Retry-After"])
        assert duration_words(seconds) in page.soup.select_one(".notice--error").get_text(" ")
        waits.append(seconds)
        clock(seconds + 1)
        missed = look_up_after_wait(limited_client, nik, b.no_kk, wait_token(page), "10.0.5.9")
        assert "No family found" in missed.h1  # the guess was checked, after the wait
    assert waits == [30, 60, 120, 240, 240, 240]


def test_a_wait_token_is_bound_to_its_numbers_and_client_network(
    limited_client: Client, two_houses, clock
) -> None:
    a, b = two_houses
    nik = a.members[0].nik
    for n in range(3):
        look_up(limited_client, nik, b.no_kk, ip=f"10.0.6.{n}")
    token = wait_token(look_up(limited_client, nik, a.no_kk, ip="10.0.6.9"))
    clock(31)
    elsewhere = look_up_after_wait(limited_client, nik, a.no_kk, token, "10.0.7.1")
    assert elsewhere.status == 429
    assert (
        look_up_after_wait(limited_client, nik, a.no_kk, "forged." + token, "10.0.6.9").status
        == 429
    )
    assert look_up_after_wait(limited_client, nik, a.no_kk, token, "10.0.6.9").status == 200


def test_successful_lookups_do_not_count_toward_the_nik_failure_limit(
    limited_client: Client, two_houses
) -> None:
    house = two_houses[0]
    for n in range(1, 6):
        page = look_up(limited_client, house.members[0].nik, house.no_kk, ip=f"10.0.2.{n}")
        assert page.status == 200, f"look-up {n} refused"
        assert "receives bansos" in page.h1


def test_refused_input_does_not_count_toward_the_nik_failure_limit(
    limited_client: Client, two_houses
) -> None:
    house = two_houses[0]
    for n in range(1, 5):
        page = look_up(limited_client, house.members[0].nik, "12345", ip=f"10.0.3.{n}")
        assert page.path == "/"
        assert "The No. KK must be exactly 16 digits." in page.error_summary()
    assert look_up(limited_client, house.members[0].nik, house.no_kk, ip="10.0.3.9").status == 200


def test_showing_the_form_is_not_limited(limited_client: Client) -> None:
    for __ in range(12):
        limited_client.page("/", environ_base={"REMOTE_ADDR": "10.0.4.1"})


def test_ipv6_clients_are_counted_by_their_64_network(limited_client: Client, two_houses) -> None:
    """A phone on IPv6 holds a whole /64: a new address per request gets no new allowance."""
    house = two_houses[0]
    nik, kk = house.members[0].nik, house.no_kk
    for i in range(5):
        assert look_up(limited_client, nik, kk, ip=f"2001:db8:aa:1::{i + 1:x}").status == 200

    assert look_up(limited_client, nik, kk, ip="2001:db8:aa:1:ffff::9").status == 429
    assert look_up(limited_client, nik, kk, ip="2001:db8:aa:2::1").status == 200


def test_an_ipv4_mapped_address_counts_as_its_ipv4_address(
    limited_client: Client, two_houses
) -> None:
    house = two_houses[0]
    nik, kk = house.members[0].nik, house.no_kk
    for __ in range(5):
        assert look_up(limited_client, nik, kk, ip="10.0.9.9").status == 200
    assert look_up(limited_client, nik, kk, ip="::ffff:10.0.9.9").status == 429
