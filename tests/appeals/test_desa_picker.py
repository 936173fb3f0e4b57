"""The desa picker (issue 10, item 5): one form whose "Search" button looks within the
family card's kabupaten first and says how many desa it found there, all of Indonesia only
when asked; a desa of another kabupaten needs an explicit confirmation; nothing typed on
the page is lost by searching. Walked like a phone without JavaScript."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from portal import db
from portal.appeals.models import Appeal, AppealDraft
from portal.replay.models import FormReplay
from tests.appeals.conftest import answers_for, load_case, path_of, post_on, submit, walk
from tests.fixtures.factories import DESA
from tests.helpers import Client, Page

CIBENING_BEKASI = "32.16.18.2005"  # the only "ciben..." desa of Kabupaten Bekasi
SUKAMAJU_BEKASI = "32.16.04.2002"
SUKAMAJU_SUKABUMI = "32.02.03.2004"  # Kabupaten Sukabumi: the slip the issue saw accepted
BUNIBAKTI = "32.16.02.2001"  # Babelan, Kabupaten Bekasi: another kecamatan, same kabupaten


def desa_page(client: Client, world: Any) -> Page:
    walk(client, "usulan", answers_for(world, "USUL-PROGRAM"), stop_at="desa")
    return client.page("/usulan/desa")


def choices(page: Page) -> list[str]:
    return [str(i["value"]) for i in page.soup.select("input[name=desa]")]


def count_line(page: Page) -> str:
    return " ".join(page.texts(".desa-picker__count"))


def saved_answers(app: Flask, client: Client) -> dict[str, Any]:
    with client.session_transaction() as session:
        token = session["drafts"]["usulan"]
    with app.app_context():
        return dict(db.session.get(AppealDraft, token).answers)


def shown_again(client: Client, page: Page, data: dict[str, Any]) -> Page:
    """Send the form of PAGE with DATA when it is not an answer that moves on (a search, a
    refused answer): the POST answers 303 to the GET of the same page (Post/Redirect/Get),
    which shows the search or the errors with status 200."""
    sent = post_on(client, page, data)
    assert sent.status == 303, (sent.status, sent.error_summary())
    location = sent.response.headers["Location"]
    assert urlsplit(location).path == page.path, location
    return client.page(location)


def search(client: Client, page: Page, query: str, action: str = "search", **extra: Any) -> Page:
    result = shown_again(client, page, {"desa_q": query, "action": action, **extra})
    assert not result.error_summary(), "a search is not an error"
    return result


# --- one form -------------------------------------------------------------------------------


def test_the_desa_page_is_one_post_form_with_search_and_continue_buttons(
    client: Client, world
) -> None:
    page = desa_page(client, world)

    forms = page.soup.select("main form")
    assert len(forms) == 1
    assert forms[0]["method"] == "post"
    buttons = {(b.get("name"), b.get("value")) for b in forms[0].find_all("button")}
    assert ("action", "search") in buttons
    assert ("action", "continue") in buttons
    assert forms[0].find("input", attrs={"name": "desa_q"})


def test_before_any_search_the_desa_of_the_family_cards_kecamatan_are_offered(
    client: Client, world
) -> None:
    page = desa_page(client, world)

    offered = choices(page)
    assert DESA in offered
    assert all(code.startswith("32.16.01.") for code in offered)
    assert "Desa in Kecamatan Tarumajaya, where the household's family card is from." in page
    assert not page.texts(".desa-picker__count")


# --- searching within the kabupaten first ---------------------------------------------------


def test_a_search_looks_within_the_family_cards_kabupaten_and_says_how_many(
    client: Client, world
) -> None:
    found = search(client, desa_page(client, world), "ciben")

    assert count_line(found) == "1 desa found in Kabupaten Bekasi."
    assert choices(found) == [CIBENING_BEKASI]  # not the 12 others across Java
    assert "Cibening, Setu, Kabupaten Bekasi" in found
    assert found.soup.find("button", attrs={"value": "search_all"})


def test_searching_all_of_indonesia_happens_only_when_asked(client: Client, world) -> None:
    page = desa_page(client, world)
    local = search(client, page, "ciben")

    everywhere = search(client, local, "ciben", action="search_all")

    assert count_line(everywhere) == "13 desa found in all of Indonesia."
    offered = choices(everywhere)
    assert len(offered) == 13
    assert CIBENING_BEKASI in offered
    assert not everywhere.soup.find("button", attrs={"value": "search_all"})
    # pressing Search again goes back to the kabupaten
    again = search(client, everywhere, "ciben")
    assert count_line(again) == "1 desa found in Kabupaten Bekasi."


def test_the_exact_name_comes_first(client: Client, world) -> None:
    found = search(client, desa_page(client, world), "sukamaju")
    assert count_line(found) == "1 desa found in Kabupaten Bekasi."
    assert choices(found)[0] == SUKAMAJU_BEKASI

    everywhere = search(client, found, "sukamaju", action="search_all")
    labels = everywhere.texts(".choice__label")
    # 65 desa are called exactly "Sukamaju": they come before "Giham Sukamaju" and the like
    assert all(label.startswith("Sukamaju,") for label in labels)
    assert count_line(everywhere) == "More than 40 desa found. Type more of the name to see fewer."
    assert len(choices(everywhere)) == 40


def test_nothing_found_in_the_kabupaten_offers_all_of_indonesia(client: Client, world) -> None:
    found = search(client, desa_page(client, world), "Sagaranten")

    assert count_line(found) == "0 desa found in Kabupaten Bekasi."
    assert choices(found) == []
    assert found.soup.find("button", attrs={"value": "search_all"})


def test_a_search_of_fewer_than_three_letters_asks_for_more(client: Client, world) -> None:
    found = search(client, desa_page(client, world), "su")
    assert "Type at least 3 letters of the name to search." in found
    assert DESA in choices(found)  # the kecamatan's desa stay on offer


@pytest.mark.parametrize("query", ["%", "_%_", "a\x00b\x00c", "ciben'; --", "x" * 500, "  "])
def test_odd_searches_never_fail(client: Client, world, query: str) -> None:
    page = desa_page(client, world)
    result = shown_again(client, page, {"desa_q": query, "action": "search"})
    assert not result.error_summary()
    assert result.soup.find("input", attrs={"name": "desa_q"})


def test_a_search_comes_back_as_a_get_that_refresh_and_back_show_again_saving_nothing(
    client: Client, app: Flask, world
) -> None:
    page = desa_page(client, world)
    before = saved_answers(app, client)

    found = search(client, page, "ciben", action="search_all")

    # refresh: the browser sends the GET again (never the POST); Back: the GET before the
    # search, the same address. Both show the search, and neither sends or saves anything.
    for shown in (client.page(found.response.request.full_path), client.page("/usulan/desa")):
        assert not shown.error_summary()
        assert count_line(shown) == "13 desa found in all of Indonesia."
        assert choices(shown) == choices(found)
        assert shown.soup.find("input", attrs={"name": "desa_q"})["value"] == "ciben"
        assert shown.soup.find("input", attrs={"name": "desa_scope", "value": "all"})
    assert saved_answers(app, client) == before
    with app.app_context():
        assert db.session.query(FormReplay).count() == 1


# --- choosing -------------------------------------------------------------------------------


def test_a_desa_found_by_search_is_chosen_and_kept_when_revisited(client: Client, world) -> None:
    found = search(client, desa_page(client, world), "bunibakti")
    assert choices(found) == [BUNIBAKTI]

    chosen = post_on(client, found, {"desa_q": "bunibakti", "desa": BUNIBAKTI})

    assert chosen.status == 302, chosen.error_summary()
    assert path_of(chosen) == "/usulan/program"
    again = client.page("/usulan/desa?return=check")
    assert again.soup.find("input", attrs={"name": "desa", "value": BUNIBAKTI, "checked": True})
    assert again.soup.find("input", attrs={"name": "desa_q"})["value"] == "bunibakti"


def test_continue_without_a_choice_keeps_the_search_results(client: Client, world) -> None:
    found = search(client, desa_page(client, world), "ciben")

    refused = shown_again(client, found, {"desa_q": "ciben", "action": "continue"})

    assert refused.error_summary() == [
        "Desa or kelurahan where the household lives: Choose the desa or kelurahan."
    ]
    assert choices(refused) == [CIBENING_BEKASI]


def test_a_desa_of_another_kabupaten_needs_an_explicit_confirmation(
    client: Client, app, world
) -> None:
    page = desa_page(client, world)
    everywhere = search(client, search(client, page, "sukamaju"), "sukamaju", "search_all")
    assert SUKAMAJU_SUKABUMI in choices(everywhere)

    refused = shown_again(
        client,
        everywhere,
        {"desa_q": "sukamaju", "desa_scope": "all", "desa": SUKAMAJU_SUKABUMI},
    )

    assert refused.error_summary() == [
        "Tick the box if this is the right desa, or choose another desa."
    ]
    assert refused.texts(".notice--warning > p") == [
        "Sukamaju is in Kabupaten Sukabumi, but the household's family card is from "
        "Kabupaten Bekasi."
    ]
    assert refused.soup.find("input", attrs={"name": "desa_confirm", "id": "desa_confirm"})
    assert choices(refused) == choices(everywhere)  # the nationwide list is still there
    assert count_line(refused) == count_line(everywhere)

    confirmed = post_on(
        client,
        refused,
        {
            "desa_q": "sukamaju",
            "desa_scope": "all",
            "desa": SUKAMAJU_SUKABUMI,
            "desa_confirm": "y",
        },
    )
    assert confirmed.status == 302, confirmed.error_summary()
    answers = answers_for(world, "USUL-PROGRAM")
    answers["desa"] = {"desa": SUKAMAJU_SUKABUMI, "desa_confirm": "y"}
    walk(client, "usulan", answers)
    assert submit(client, "usulan").status == 302
    filed: Appeal = load_case(app, client.page("/tanda-terima").texts(".ticket")[0])
    assert filed.details["household"]["desa"] == SUKAMAJU_SUKABUMI


def test_a_crafted_post_of_another_kabupatens_desa_is_not_accepted_silently(
    client: Client, world
) -> None:
    page = desa_page(client, world)

    refused = shown_again(client, page, {"desa": SUKAMAJU_SUKABUMI})

    assert refused.error_summary() == [
        "Tick the box if this is the right desa, or choose another desa."
    ]


def test_a_desa_of_the_same_kabupaten_needs_no_confirmation(client: Client, world) -> None:
    page = desa_page(client, world)
    chosen = post_on(client, page, {"desa": BUNIBAKTI})  # another kecamatan, same kabupaten
    assert chosen.status == 302, chosen.error_summary()
