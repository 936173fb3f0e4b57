"""Post/Redirect/Get on the look-up (portal/replay).

The result is a GET page (/hasil) that shows this browser's latest look-up again from a
short-lived server-side reference: Back, refresh and the language switch keep it, the access
is recorded once, and no number is in a URL or the session cookie. A form that failed comes
back on a GET too: refreshing it shows the same errors and sends nothing. Both are bound to
the browser session: a session that holds the token value but not the browser key that
created it (another browser, a forged cookie) gets nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from portal import db
from portal.lookup.models import AccessEvent
from portal.replay.models import FormReplay, LookupReference
from tests.helpers import Client, Page

SESSION_COOKIE = "dtsen_session"
EXPIRED_RESULT = "For your family's privacy, a result is shown for 30 minutes only."


def look_up(client: Client, nik: str, no_kk: str, **kwargs: Any) -> Page:
    """Look up in English, chosen with the language switch (kept in the session)."""
    client.choose_language("en")
    return client.post_form("/", {"nik": nik, "no_kk": no_kk}, follow_redirects=True, **kwargs)


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def session_of(app: Flask, client: Client) -> dict[str, Any]:
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    return dict(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


@pytest.fixture
def house(factory):
    house = factory.household(desil=2, size=3)
    factory.publish("2026Q3", [house])
    return house


# --- the result page ----------------------------------------------------------------------


def test_refresh_and_back_show_the_result_again_and_record_the_access_once(
    client: Client, app: Flask, house
) -> None:
    first = look_up(client, house.members[0].nik, house.no_kk)
    assert first.path == "/hasil"
    assert "receives bansos" in first.h1
    assert count(app, AccessEvent) == 1

    client.page("/lacak")  # the person goes on to another page, then taps Back
    again = client.page("/hasil")
    refreshed = client.page("/hasil")

    assert again.h1 == refreshed.h1 == first.h1
    assert again.texts(".member__name") == first.texts(".member__name")
    assert count(app, AccessEvent) == 1, "showing the result again recorded a new access"


def test_the_language_switch_on_the_result_keeps_it(client: Client, house) -> None:
    shown = client.post_form(
        "/", {"nik": house.members[0].nik, "no_kk": house.no_kk}, follow_redirects=True
    )
    assert shown.lang == "id"
    switch = shown.soup.select_one('.lang-switch a[hreflang="en"]')
    assert switch is not None
    assert switch["href"] == "/hasil?lang=en"

    english = client.page(switch["href"])

    assert english.lang == "en"
    assert "receives bansos" in english.h1
    assert english.texts(".member__name") == shown.texts(".member__name")


def test_no_number_in_any_url_and_only_random_tokens_in_the_session(
    client: Client, app: Flask, house
) -> None:
    nik = house.members[0].nik
    page = look_up(client, nik, house.no_kk)

    for hop in page.redirects:
        assert nik not in hop.headers["Location"]
        assert house.no_kk not in hop.headers["Location"]
    assert page.response.request.url.endswith("/hasil")
    stored = session_of(app, client)
    assert set(stored) >= {"bk", "lookup"}
    text = repr(stored)
    for number in (nik, house.no_kk):
        assert number not in text
        assert grouped(number) not in text
    assert all(len(str(stored[key])) >= 32 for key in ("bk", "lookup"))


def test_an_expired_reference_sends_to_the_form_with_a_kind_message(
    client: Client, app: Flask, house
) -> None:
    look_up(client, house.members[0].nik, house.no_kk)
    with app.app_context():
        db.session.execute(
            update(LookupReference).values(expires_at=db.utcnow() - timedelta(seconds=1))
        )
        db.session.commit()

    page = Page(client.get("/hasil", follow_redirects=True)).check()

    assert page.path == "/"
    assert page.soup.find("form", class_="lookup-form")
    assert EXPIRED_RESULT in page
    assert page.soup.select(".member") == []


def test_a_browser_without_a_look_up_is_sent_to_the_form(client: Client) -> None:
    client.choose_language("en")
    response = client.get("/hasil")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert EXPIRED_RESULT in client.page("/")


def test_a_reference_is_bound_to_the_browser_session(client: Client, app: Flask, house) -> None:
    look_up(client, house.members[0].nik, house.no_kk)
    token = session_of(app, client)["lookup"]

    stranger: Client = app.test_client()  # type: ignore[assignment]
    stranger.get("/")
    with stranger.session_transaction() as session:  # holds the token value, not its key
        session["lookup"] = token
        session["bk"] = "another-browser-key-" + "x" * 32
    response = stranger.get("/hasil")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

    no_key: Client = app.test_client()  # type: ignore[assignment]
    with no_key.session_transaction() as session:
        session["lookup"] = token
    assert no_key.get("/hasil").status_code == 302

    # the owner still sees it
    assert "receives bansos" in client.page("/hasil").h1


def test_a_new_look_up_replaces_the_previous_reference(client: Client, app: Flask, factory) -> None:
    a, b = factory.household(desil=2), factory.household(desil=8, programs=())
    factory.publish("2026Q3", [a, b])

    look_up(client, a.members[0].nik, a.no_kk)
    second = look_up(client, b.members[0].nik, b.no_kk)

    assert "above the range" in second.h1
    assert "above the range" in client.page("/hasil").h1
    assert count(app, LookupReference) == 1


def test_a_result_from_data_since_replaced_asks_to_check_again(
    client: Client, factory, house
) -> None:
    look_up(client, house.members[0].nik, house.no_kk)
    factory.publish("2026Q4", [house])

    page = Page(client.get("/hasil", follow_redirects=True)).check()

    assert page.path == "/"
    assert "The data was updated since your check." in page


def test_a_not_found_result_is_shown_again_without_another_miss(
    limited_client: Client, limited_factory, limited_app: Flask
) -> None:
    limited_factory.publish("2026Q3", [limited_factory.household()])
    nik, no_kk = limited_factory.unknown_pair()
    # DTSEN_FREE_MISSES=3: a fourth miss about these numbers would have to wait
    for __ in range(3):
        assert "No family found" in look_up(limited_client, nik, no_kk).h1
    for __ in range(3):
        page = limited_client.page("/hasil")
        assert "No family found" in page.h1
    assert count(limited_app, AccessEvent) == 0


# --- a form that failed -------------------------------------------------------------------


def test_refreshing_a_refused_form_shows_the_same_errors_and_sends_nothing(
    client: Client, app: Flask, house
) -> None:
    refused = look_up(client, house.members[0].nik, "9901012005190001")
    assert refused.path == "/"
    errors = refused.error_summary()
    assert errors == [
        "The first 6 digits of the No. KK are not a known kecamatan code. Check the number."
    ]

    for __ in range(2):
        again = client.page("/")
        assert again.error_summary() == errors
        assert again.soup.find("input", attrs={"name": "nik"})["value"] == grouped(
            house.members[0].nik
        )
    assert count(app, AccessEvent) == 0
    assert count(app, FormReplay) == 1


def test_the_errors_of_a_refused_form_follow_the_language_switch(client: Client) -> None:
    client.post_form("/", {"nik": "123", "no_kk": ""}, headers={"Accept-Language": "id"})

    indonesian = client.page("/")
    english = client.page("/?lang=en")

    assert english.error_summary() == [
        "The NIK must be exactly 16 digits.",
        "Enter the No. KK, the 16-digit number at the top of the family card.",
    ]
    assert indonesian.error_summary() != english.error_summary()
    assert len(indonesian.error_summary()) == 2


def test_a_refused_form_is_bound_to_the_browser_session(client: Client, app: Flask, house) -> None:
    look_up(client, house.members[0].nik, "123")
    token = session_of(app, client)["replay"]

    stranger: Client = app.test_client()  # type: ignore[assignment]
    with stranger.session_transaction() as session:
        session["replay"] = token
        session["bk"] = "another-browser-key-" + "y" * 32
    page = stranger.page("/")

    assert page.error_summary() == []
    assert page.soup.find("input", attrs={"name": "nik"}).get("value", "") == ""


def test_a_successful_look_up_forgets_the_refused_form(client: Client, app: Flask, house) -> None:
    look_up(client, house.members[0].nik, "123")
    look_up(client, house.members[0].nik, house.no_kk)

    page = client.page("/")

    assert page.error_summary() == []
    assert page.soup.find("input", attrs={"name": "nik"}).get("value", "") == ""
    assert count(app, FormReplay) == 0


def test_a_refused_form_is_kept_fifteen_minutes(client: Client, app: Flask, house) -> None:
    look_up(client, house.members[0].nik, "123")
    with app.app_context():
        db.session.execute(update(FormReplay).values(expires_at=db.utcnow() - timedelta(seconds=1)))
        db.session.commit()

    page = client.page("/")

    assert page.error_summary() == []


def test_purge_deletes_expired_forms_and_references(
    client: Client, app: Flask, house, runner
) -> None:
    look_up(client, house.members[0].nik, "123")
    look_up(client, house.members[0].nik, house.no_kk)
    other: Client = app.test_client()  # type: ignore[assignment]
    look_up(other, house.members[0].nik, "456")
    with app.app_context():
        past = db.utcnow() - timedelta(seconds=1)
        db.session.execute(update(LookupReference).values(expires_at=past))
        db.session.commit()

    result = runner.invoke(args=["appeals", "purge-drafts"])

    assert result.exit_code == 0
    assert "purged 1 kept form(s) and look-up result(s)" in result.output
    assert count(app, LookupReference) == 0
    assert count(app, FormReplay) == 1  # the other browser's, not expired


def test_expired_references_are_swept_once_an_interval_not_by_every_look_up(
    client: Client, app: Flask, factory, house, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look-up deletes its browser's previous reference by its key; other browsers' expired
    references go in a sweep at most once every EXPIRED_SWEEP_SECONDS per process (a DELETE
    of every expired row on every look-up scanned, on PostgreSQL, every row deleted since the
    last VACUUM: portal/expiry.py). Nobody's expired reference outlives that interval on a
    site that has look-ups."""
    from portal import expiry

    clock = [1000.0]
    monkeypatch.setattr(expiry.time, "monotonic", lambda: clock[0])
    app.config["EXPIRED_SWEEP_SECONDS"] = 60.0

    def expire_the_others(client_reference: str | None) -> None:
        """Three other browsers' references, expired a second ago."""
        others: list[Client] = [app.test_client() for _n in range(3)]  # type: ignore[misc]
        for other in others:
            look_up(other, house.members[0].nik, house.no_kk)
        with app.app_context():
            past = db.utcnow() - timedelta(seconds=1)
            mine = LookupReference.token_hash != (client_reference or "")
            db.session.execute(update(LookupReference).where(mine).values(expires_at=past))
            db.session.commit()

    def mine() -> str:
        with app.app_context():
            owned = db.session.scalars(select(LookupReference.token_hash)).all()
        from portal.core.tokens import token_hash

        token = session_of(app, client)["lookup"]
        assert token_hash(token) in owned
        return token_hash(token)

    look_up(client, house.members[0].nik, house.no_kk)  # this process's first sweep
    expire_the_others(mine())
    assert count(app, LookupReference) == 4

    clock[0] += 59
    look_up(client, house.members[0].nik, house.no_kk)
    # the browser's previous reference went, the others' expired ones wait for the sweep
    assert count(app, LookupReference) == 4
    mine()

    clock[0] += 2
    look_up(client, house.members[0].nik, house.no_kk)
    assert count(app, LookupReference) == 1
    assert "receives bansos" in client.page("/hasil").h1


def test_a_sweep_reads_only_what_expired_since_the_last_one(
    client: Client, app: Flask, house, runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a process's first sweep, the next ones read the rows that expired since its
    last one (the index range of a few seconds, not every row deleted before): a row that
    was already expired at the last sweep (only a clock half an hour wrong could write
    one) is left to `flask appeals purge-drafts`."""
    from portal import expiry

    clock = [1000.0]
    monkeypatch.setattr(expiry.time, "monotonic", lambda: clock[0])
    app.config["EXPIRED_SWEEP_SECONDS"] = 60.0
    look_up(client, house.members[0].nik, house.no_kk)  # the first sweep
    others: list[Client] = [app.test_client() for _n in range(2)]  # type: ignore[misc]
    for other in others:
        look_up(other, house.members[0].nik, house.no_kk)
    with app.app_context():
        now = db.utcnow()
        just, long_ago = now - timedelta(seconds=1), now - timedelta(hours=1)
        tokens = [session_of(app, other)["lookup"] for other in others]
        from portal.core.tokens import token_hash

        for token, expired in zip(tokens, (just, long_ago), strict=True):
            db.session.execute(
                update(LookupReference)
                .where(LookupReference.token_hash == token_hash(token))
                .values(expires_at=expired)
            )
        db.session.commit()

    clock[0] += 61
    look_up(client, house.members[0].nik, house.no_kk)

    with app.app_context():
        left = db.session.scalars(select(LookupReference.expires_at)).all()
    assert len(left) == 2  # this browser's new one and the one expired an hour ago
    assert min(left) == long_ago
    assert runner.invoke(args=["appeals", "purge-drafts"]).exit_code == 0
    assert count(app, LookupReference) == 1
