"""Numbers typed once (issue 10, item 1), walked like a phone browser without JavaScript: every
form is sent as the page shows it (hidden fields, checked radios, pre-filled boxes) plus
what the person types, and the digits typed into number boxes are counted.

- The NIK + No. KK of this browser's look-up are offered at "Who is filing" (masked, "from
  your check just now") and kept without typing; the step still checks them through the
  policy (limits and misses count as if typed); another session gets nothing.
- A revisited step shows its saved numbers masked with a "Change" link; keeping them needs
  no typing; "Change" opens an empty box.
- The usulan household starts as the filer's family card; its head, and for an heir the
  recipient who died and the heir, are chosen by masked name from the filer's proven card.
  No member's NIK is ever in a page; a key that is no person, or a person of the filer's
  card for another household, is refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from portal import db
from portal.appeals.models import AppealDraft
from tests.appeals.conftest import CONDITIONS_ANSWER, World, load_case, path_of
from tests.fixtures.factories import DESA
from tests.helpers import SIXTEEN_DIGITS, Client, Page

NUMBER_BOXES = {"nik", "no_kk", "subject_nik", "head_nik", "deceased_nik", "heir_nik"}
FROM_LOOKUP = "from your check just now"


def masked(number: str) -> str:
    return f"{number[:4]} •••• •••• {number[-4:]}"


def grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


class Typist:
    """Sends forms as shown and counts the digits typed into number boxes."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.digits = 0

    def look_up(self, nik: str, no_kk: str) -> Page:
        self.digits += len(nik) + len(no_kk)
        return self.client.post_form("/", {"nik": nik, "no_kk": no_kk}, follow_redirects=True)

    def send(self, page: Page, typed: dict[str, Any] | None = None) -> Page:
        """Submit the page's POST form as a browser would, with TYPED changes."""
        form = page.soup.find("form", method="post")
        assert form is not None, "no POST form"
        data: MultiDict[str, str] = MultiDict()
        for el in form.find_all(["input", "textarea", "select"]):
            name = el.get("name")
            if not name:
                continue
            kind = el.get("type", "text") if el.name == "input" else el.name
            if kind in ("radio", "checkbox"):
                if el.has_attr("checked"):
                    data.add(name, el.get("value", "on"))
            elif kind in ("submit", "button", "file"):
                continue
            elif kind == "textarea":
                data.add(name, el.get_text())
            elif kind == "select":
                chosen = el.find("option", selected=True)
                data.add(name, chosen["value"] if chosen else "")
            else:
                data.add(name, el.get("value", ""))
        for name, value in (typed or {}).items():
            values = value if isinstance(value, list) else [value]
            if name in NUMBER_BOXES:
                self.digits += sum(ch.isdigit() for v in values for ch in v)
            data.setlist(name, values)
        response = Page(self.client.post(form["action"], data=data))
        return response.check() if "html" in response.response.content_type else response

    def page(self, url: str) -> Page:
        return self.client.page(url)


def saved(app: Flask, client: Client, kind: str) -> dict[str, Any]:
    with client.session_transaction() as session:
        token = session["drafts"][kind]
    with app.app_context():
        draft = db.session.get(AppealDraft, token)
        assert draft is not None
        return dict(draft.answers)


def radio_for(page: Page, name: str, label_start: str) -> str:
    """The value of the radio NAME whose label starts with LABEL_START."""
    for radio in page.soup.find_all("input", attrs={"type": "radio", "name": name}):
        label = page.soup.find("label", attrs={"for": radio["id"]})
        if label.get_text(" ", strip=True).startswith(label_start):
            return str(radio["value"])
    raise AssertionError(f"no choice {label_start!r} for {name}")


def assert_no_full_number(page: Page, *numbers: str) -> None:
    for number in numbers:
        assert number not in page.text
        assert grouped(number) not in page.text
    assert not SIXTEEN_DIGITS.search(page.text)


@pytest.fixture
def typist(client: Client) -> Typist:
    return Typist(client)


# --- the look-up's filer ----------------------------------------------------------------------


def test_the_looked_up_pair_is_offered_at_pelapor_and_filed_without_typing(
    typist: Typist, app: Flask, world: World, file_case
) -> None:
    filer = world.filer
    typist.look_up(filer.members[0].nik, filer.no_kk)
    typist.send(typist.page("/sanggahan/alasan"), {"reason": "EXC-DESIL-SALAH"})

    page = typist.page("/sanggahan/pelapor")

    assert page.soup.find("input", attrs={"name": "nik", "type": "text"}) is None
    assert page.soup.find("input", attrs={"name": "no_kk", "type": "text"}) is None
    assert masked(filer.members[0].nik) in page
    assert masked(filer.no_kk) in page
    assert FROM_LOOKUP in page
    assert_no_full_number(page, filer.members[0].nik, filer.no_kk)

    sent = typist.send(page)

    assert (sent.status, path_of(sent)) == (302, "/sanggahan/rincian")
    assert saved(app, typist.client, "sanggahan")["pelapor"] == {
        "nik": filer.members[0].nik,
        "no_kk": filer.no_kk,
        "verified": True,
        "period": "2026Q3",  # found in the period published by the world fixture
    }
    assert typist.digits == 32, "only the look-up's numbers were typed"


def test_a_session_holding_the_look_up_token_without_its_key_gets_nothing(
    client: Client, app: Flask, world: World
) -> None:
    Typist(client).look_up(world.filer_nik, world.filer.no_kk)
    with client.session_transaction() as session:
        token = session["lookup"]
    stranger = Typist(app.test_client())  # type: ignore[arg-type]
    stranger.client.choose_language("en")
    stranger.send(stranger.page("/sanggahan/alasan"), {"reason": "EXC-DESIL-SALAH"})
    with stranger.client.session_transaction() as session:
        session["lookup"] = token  # the token's value, with this browser's own key
        session["bk"] = "the-strangers-own-browser-key-" + "z" * 32

    page = stranger.page("/sanggahan/pelapor")

    assert page.soup.find("input", attrs={"name": "nik", "type": "text"})
    assert masked(world.filer_nik) not in page
    assert FROM_LOOKUP not in page
    # a page forged to say "keep" keeps nothing
    forged = stranger.client.post_form(
        "/sanggahan/pelapor",
        {"nik": "", "nik-keep": "1", "no_kk": "", "no_kk-keep": "1"},
        follow_redirects=True,
    )
    assert forged.path == "/sanggahan/pelapor"
    assert "the number shown before is no longer kept" in " ".join(forged.error_summary())
    with app.app_context():
        [draft] = db.session.query(AppealDraft).all()
        assert "pelapor" not in draft.answers


def test_the_carried_pair_is_checked_through_the_policy_like_a_typed_one(
    limited_app: Flask, limited_client: Client, limited_world: World
) -> None:
    limited_app.config["APPEAL_LIMIT"] = "1 per minute"
    typist = Typist(limited_client)
    typist.look_up(limited_world.filer_nik, limited_world.filer.no_kk)
    typist.send(typist.page("/sanggahan/alasan"), {"reason": "EXC-DESIL-SALAH"})
    pelapor = typist.page("/sanggahan/pelapor")

    assert typist.send(pelapor).status == 302  # the network's one filer check this minute
    again = typist.page("/sanggahan/pelapor")
    refused = typist.send(again)  # kept numbers, not typed: still a check, still limited

    assert refused.status == 429


def test_a_pair_not_found_at_the_look_up_is_offered_but_refused_where_a_verified_filer_is_needed(
    typist: Typist, app: Flask, world: World
) -> None:
    nik, kk = world.stranger
    typist.look_up(nik, kk)
    typist.send(typist.page("/sanggahan/alasan"), {"reason": "EXC-DESIL-SALAH"})
    page = typist.page("/sanggahan/pelapor")
    assert masked(nik) in page

    sent = typist.send(page)
    shown = typist.page(sent.response.headers["Location"])

    assert sent.status == 303
    assert "We could not find this NIK with this No. KK in DTSEN" in " ".join(shown.error_summary())
    assert masked(nik) in shown, "the NIK that passed stays kept"
    assert shown.soup.find("input", attrs={"name": "no_kk", "type": "text"})["value"] == ""


# --- revisited steps ------------------------------------------------------------------------


def test_a_revisited_step_shows_its_numbers_masked_and_keeps_them_without_typing(
    typist: Typist, app: Flask, world: World
) -> None:
    from tests.appeals.conftest import answers_for, walk

    walk(typist.client, "sanggahan", answers_for(world, "INC-MAMPU"))
    reported = world.other.members[0].nik
    check = typist.page("/sanggahan/periksa")
    change = next(
        a["href"] for a in check.soup.select(".summary__action a") if "/subjek?" in a["href"]
    )

    subject = typist.page(change)
    assert masked(reported) in subject
    assert_no_full_number(subject, reported)
    sent = typist.send(subject)

    assert (sent.status, path_of(sent)) == (302, "/sanggahan/periksa")
    assert saved(app, typist.client, "sanggahan")["subjek"]["subject_nik"] == reported
    assert typist.digits == 0


def test_change_opens_an_empty_box_for_that_number_only(
    typist: Typist, app: Flask, world: World
) -> None:
    from tests.appeals.conftest import answers_for, walk

    walk(typist.client, "sanggahan", answers_for(world, "INC-MAMPU"))
    page = typist.page("/sanggahan/pelapor?return=check")
    link = page.soup.select_one("#nik-group a.kept__change")
    assert link is not None
    assert "return=check" in link["href"]
    assert "ubah=nik" in link["href"]

    changing = typist.page(link["href"])

    box = changing.soup.find("input", attrs={"name": "nik", "type": "text"})
    assert box is not None
    assert box.get("value", "") == ""
    assert changing.soup.find("input", attrs={"name": "no_kk-keep"}) is not None
    sent = typist.send(changing, {"nik": world.filer.members[1].nik})
    assert (sent.status, path_of(sent)) == (302, "/sanggahan/periksa")
    assert saved(app, typist.client, "sanggahan")["pelapor"]["nik"] == world.filer.members[1].nik
    assert typist.digits == 16


def test_return_to_check_survives_an_error(typist: Typist, world: World) -> None:
    from tests.appeals.conftest import answers_for, walk

    walk(typist.client, "sanggahan", answers_for(world, "INC-MAMPU"))
    page = typist.page("/sanggahan/kontak?return=check")

    refused = typist.send(page, {"phone": "12345"})
    assert refused.status == 303
    assert refused.response.headers["Location"] == "/sanggahan/kontak?return=check"
    shown = typist.page(refused.response.headers["Location"])
    assert shown.soup.find("input", attrs={"name": "return", "value": "check"})

    fixed = typist.send(shown, {"phone": "081298765432"})

    assert (fixed.status, path_of(fixed)) == (302, "/sanggahan/periksa")


# --- the usulan household, from the filer's proven card ---------------------------------------


def start_usulan(typist: Typist, world: World, code: str) -> None:
    typist.look_up(world.filer_nik, world.filer.no_kk)
    typist.send(typist.page("/usulan/alasan"), {"reason": code})
    assert path_of(typist.send(typist.page("/usulan/pelapor"))) == "/usulan/rumah-tangga"


def test_the_household_starts_as_the_filers_card_with_its_head_chosen(
    typist: Typist, app: Flask, world: World
) -> None:
    start_usulan(typist, world, "USUL-PROGRAM")
    filer = world.filer

    page = typist.page("/usulan/rumah-tangga")

    assert masked(filer.no_kk) in page
    head = page.soup.find("input", attrs={"name": "head_nik-pick", "checked": True})
    assert head is not None, "the head of the family card is not preselected"
    label = page.soup.find("label", attrs={"for": head["id"]}).get_text(" ", strip=True)
    assert label.startswith("B*** S******, Head of family")
    assert page.soup.find("textarea", attrs={"name": "alamat"}).get_text().strip() == filer.alamat
    assert_no_full_number(page, *(m.nik for m in filer.members), filer.no_kk)
    for name in ("BUDI", "SITI", "AHMAD"):
        assert name not in page.text.upper()

    sent = typist.send(page)

    assert (sent.status, path_of(sent)) == (302, "/usulan/desa")
    assert saved(app, typist.client, "usulan")["rumah-tangga"] == {
        "no_kk": filer.no_kk,
        "head_nik": filer.members[0].nik,
        "alamat": filer.alamat,
    }
    assert typist.digits == 32


def test_a_person_of_the_filers_card_cannot_head_another_household(
    typist: Typist, world: World
) -> None:
    start_usulan(typist, world, "USUL-PROGRAM")
    page = typist.page("/usulan/rumah-tangga?ubah=no_kk")
    assert page.soup.find("input", attrs={"name": "no_kk", "type": "text"})

    sent = typist.send(page, {"no_kk": world.third.no_kk})
    shown = typist.page(sent.response.headers["Location"])

    assert sent.status == 303
    assert any("The people listed are on your own family card" in e for e in shown.error_summary())
    box = shown.soup.find("input", attrs={"name": "no_kk", "type": "text"})
    assert box["value"] == grouped(world.third.no_kk), "the valid No. KK typed is kept"


def test_an_invented_person_key_is_refused(typist: Typist, world: World) -> None:
    start_usulan(typist, world, "USUL-PROGRAM")
    sent = typist.send(typist.page("/usulan/rumah-tangga"), {"head_nik-pick": "p99"})
    shown = typist.page(sent.response.headers["Location"])
    assert "Choose one of the options shown." in " ".join(shown.error_summary())


def test_the_heir_and_the_recipient_are_chosen_by_masked_name(
    typist: Typist, app: Flask, world: World, file_case
) -> None:
    start_usulan(typist, world, "USUL-AHLI-WARIS")
    typist.send(typist.page("/usulan/rumah-tangga"))
    typist.send(typist.page("/usulan/desa"), {"desa": DESA})
    page = typist.page("/usulan/ahli-waris")
    members = world.filer.members
    assert_no_full_number(page, *(m.nik for m in members))
    deceased = radio_for(page, "deceased_nik-pick", "B*** S******, Head of family")
    heir = radio_for(page, "heir_nik-pick", "S*** A*****, Child")

    same = typist.send(page, {"deceased_nik-pick": deceased, "heir_nik-pick": deceased})
    assert "The heir must be a different person." in " ".join(
        typist.page(same.response.headers["Location"]).error_summary()
    )
    sent = typist.send(
        typist.page("/usulan/ahli-waris"), {"deceased_nik-pick": deceased, "heir_nik-pick": heir}
    )

    assert (sent.status, path_of(sent)) == (302, "/usulan/foto")
    assert saved(app, typist.client, "usulan")["ahli-waris"] == {
        "deceased_nik": members[0].nik,
        "heir_nik": members[1].nik,
    }
    assert typist.digits == 32
    revisited = typist.page("/usulan/ahli-waris")
    assert (
        revisited.soup.find("input", attrs={"name": "heir_nik-pick", "checked": True})["value"]
        == heir
    )


def test_no_person_list_for_a_household_the_filer_did_not_prove(
    typist: Typist, world: World
) -> None:
    start_usulan(typist, world, "USUL-AHLI-WARIS")
    other = world.other
    typist.send(
        typist.page("/usulan/rumah-tangga?ubah=no_kk"),
        {"no_kk": other.no_kk, "head_nik-pick": "other", "head_nik": other.members[0].nik},
    )
    typist.send(typist.page("/usulan/desa"), {"desa": DESA})

    page = typist.page("/usulan/ahli-waris")

    assert page.soup.find("input", attrs={"name": "deceased_nik-pick"}) is None
    assert page.soup.find("input", attrs={"name": "deceased_nik", "type": "text"})
    assert "B*** S******" not in page


def test_a_household_missing_from_dtsen_is_proposed_with_numbers_typed_once(
    typist: Typist, app: Flask, world: World, file_case
) -> None:
    nik, kk = world.stranger
    typist.look_up(nik, kk)
    typist.send(typist.page("/usulan/alasan"), {"reason": "EXC-TIDAK-TERDATA"})
    typist.send(typist.page("/usulan/pelapor"))
    page = typist.page("/usulan/rumah-tangga")
    me = radio_for(page, "head_nik-pick", "Me, the person filing")

    typist.send(page, {"head_nik-pick": me, "alamat": "KP. BARU RT 1/RW 2"})
    typist.send(typist.page("/usulan/desa"), {"desa": DESA})
    typist.send(typist.page("/usulan/program"), {"programs": ["PKH"]})
    typist.send(typist.page("/usulan/kondisi"), dict(CONDITIONS_ANSWER))
    typist.send(typist.page("/usulan/foto"), {"action": "continue"})
    typist.send(typist.page("/usulan/kontak"))
    sent = typist.send(typist.page("/usulan/periksa"), {"declaration": "y"})

    assert path_of(sent) == "/tanda-terima"
    ticket = typist.page("/tanda-terima").texts(".ticket")[0]
    case = load_case(app, ticket)
    assert (case.filer_nik, case.subject_nik, case.filer_verified) == (nik, nik, False)
    assert case.details["household"]["no_kk"] == kk
    assert typist.digits == 32


def test_a_person_chosen_and_a_nik_typed_at_once_is_asked_again_never_guessed(
    typist: Typist, app: Flask, world: World
) -> None:
    start_usulan(typist, world, "USUL-PROGRAM")
    page = typist.page("/usulan/rumah-tangga")  # the head of the card is preselected

    sent = typist.send(page, {"head_nik": world.other.members[0].nik})
    shown = typist.page(sent.response.headers["Location"])

    assert sent.status == 303
    assert any("also typed a NIK" in e for e in shown.error_summary())
    assert "rumah-tangga" not in saved(app, typist.client, "usulan")
