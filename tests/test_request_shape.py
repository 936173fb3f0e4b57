"""Requests a browser would not send, or would send in a way we did not plan for, get a
fitting answer and never a 500: HEAD, JSON or multipart bodies, stray query arguments,
and one Retry-After whatever limit was hit."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask

from tests.appeals.conftest import answers_for, publish_world, walk
from tests.fixtures.staff import StaffFactory
from tests.helpers import Client, Page


def get_pages(app: Flask) -> list[str]:
    """Every GET route without arguments (staff pages redirect to the sign-in)."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments and rule.endpoint != "static"
    )


def post_routes(app: Flask) -> list[str]:
    """Every POST route, with its arguments filled with 1 (the guard runs before the view)."""
    found = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int(max=2147483647):{arg}>", "1")
            path = path.replace(f"<any(sanggahan,usulan):{arg}>", "sanggahan")
            path = path.replace(f"<{arg}>", "pelapor" if arg == "slug" else "x")
        found.append(path)
    return sorted(found)


def test_head_answers_like_get_on_every_page(app: Flask, client: Client) -> None:
    pages = get_pages(app)
    assert "/" in pages
    assert "/lacak" in pages
    for path in pages:
        got = client.get(path)
        head = client.head(path)
        assert head.status_code == got.status_code, f"HEAD {path}: {head.status_code}"
        assert head.get_data() == b""


def test_json_body_is_refused_on_every_post_route_with_a_415_page(
    app: Flask, client: Client
) -> None:
    client.choose_language("en")
    body = json.dumps({"nik": 3216014506880002, "no_kk": [1, 2]})
    for path in post_routes(app):
        response = client.post(path, data=body, content_type="application/json")
        page = Page(response)
        assert page.status == 415, f"POST {path}: {page.status}"
        page.check()
        assert page.h1 == "This form cannot be sent this way"


def test_multipart_is_refused_where_no_photo_is_expected(client: Client) -> None:
    token = client.csrf_token("/")
    data = {"csrf_token": token, "nik": (io.BytesIO(b"3216014506880002"), "nik.txt")}
    response = client.post("/", data=data, content_type="multipart/form-data")
    assert response.status_code == 415


def test_a_file_in_place_of_a_text_answer_on_a_photo_page_is_no_answer(
    client: Client, factory
) -> None:
    world = publish_world(factory)
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"), stop_at="foto")
    token = client.csrf_token("/sanggahan/foto")
    data = {
        "csrf_token": token,
        "action": (io.BytesIO(b"upload"), "action.txt"),
        "photos": (io.BytesIO(b""), ""),
    }
    response = client.post("/sanggahan/foto", data=data, content_type="multipart/form-data")
    assert response.status_code in (302, 303)


@pytest.mark.parametrize(
    "query",
    [
        "slug=x",
        "kind_name=usulan",
        "_external=1",
        "_scheme=http&_external=1",
        "_anchor=x",
        "_method=POST",
        "alasan=INC-MAMPU&_external=1",
    ],
)
def test_start_links_pass_on_the_reason_only(client: Client, query: str) -> None:
    response = client.get(f"/sanggahan?{query}", headers={"Host": "evil.example"})
    assert response.status_code == 200  # the start page; its "Start" button leads on
    start = Page(response).soup.select_one("main a.button")["href"]
    expected = "/sanggahan/alasan?alasan=INC-MAMPU" if "alasan" in query else "/sanggahan/alasan"
    assert start == expected
    assert "evil.example" not in response.get_data(as_text=True)


def test_staff_queue_passes_on_only_its_filters(app: Flask) -> None:
    staff = StaffFactory(app)
    client = staff.login(staff.create("verifikator"))
    page = client.page("/staf/?_external=1&_anchor=x&endpoint=y&status=diterima")
    assert page.status == 200


def test_every_limit_answers_with_the_same_retry_after(
    limited_client: Client, limited_factory
) -> None:
    """limited_app: 5 look-ups a minute per client network; 3 misses a day per NIK, after
    which a check about it waits (a form with its own wait, not a refusal)."""
    house = limited_factory.household()
    limited_factory.publish("2026Q3", [house])
    nik, no_kk = house.members[0].nik, house.no_kk
    wrong_kk = limited_factory.unknown_pair()[1]

    def look_up(kk: str, address: str, **extra: str) -> Page:
        data = {"nik": nik, "no_kk": kk, **extra}
        return limited_client.post_form("/", data, environ_base={"REMOTE_ADDR": address})

    honeypot = look_up(no_kk, "10.9.0.1", website="x")
    per_address = [look_up(no_kk, "10.9.2.1") for __ in range(6)][-1]
    per_nik = [look_up(wrong_kk, f"10.9.1.{i}") for i in range(4)][-1]

    assert [honeypot.status, per_address.status] == [429, 429]
    assert honeypot.h1 == per_address.h1 == "Terlalu banyak percobaan"
    retry = {p.response.headers["Retry-After"] for p in (honeypot, per_address)}
    assert len(retry) == 1, retry
    assert per_nik.status == 429
    assert per_nik.soup.find("input", attrs={"name": "wait"}) is not None
    assert per_nik.response.headers["Retry-After"] == "30"
