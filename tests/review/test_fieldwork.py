"""The verval task that works in the field (issue 14, part 4): the desa operator's task shows
the household to visit (head, address with RT/RW, members with relationship and age) and the
reason's checklist, never who filed; a server-side draft ("Save draft") keeps the text, the
checklist and the photos; the sent result keeps the checklist answers, which the verifikator
reads on the case page; "What I already sent" lists the operator's own results; an
operator's home (/staf/) is their task list.

The place: RAHMAT HIDAYAT's household in Bunibakti (32.16.02.2001), KP. BUNI RT 003/RW 012,
with ENI SURYANI and ILHAM; the operator of Bunibakti does the check."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from portal import db
from portal.appeals.models import Appeal, AppealPhoto
from portal.appeals.states import AppealStatus
from portal.auth.models import StaffUser
from portal.dataimport.queries import pseudonym
from portal.review import fieldwork
from portal.review.models import FieldCheck, FieldCheckDraft
from tests.fixtures.factories import make_appeal
from tests.fixtures.staff import Officer, StaffFactory
from tests.fixtures.worlds import KeptWorld
from tests.helpers import Client, Page
from tests.photos import phone_photo
from tests.review.conftest import (
    DESA,
    Case,
    CaseFactory,
    audit,
    checked,
    count,
    errors,
    follow,
    get,
    location,
    post,
)
from tests.review.test_matching import BUNIBAKTI, Town, publish_town

FILER_NIK = "3216014101900002"


@dataclass
class Setup:
    town: Town
    case: Case
    check_id: int
    operator: Officer
    verifikator: Officer

    @property
    def url(self) -> str:
        return f"/staf/verval/{self.check_id}"


@pytest.fixture
def town(kept_world: KeptWorld) -> Town:
    return kept_world(publish_town)


def case_about(
    app: Flask,
    house: Any,
    *,
    desa: str = BUNIBAKTI,
    reason: str = "INC-MAMPU",
    concerned: int | None = None,
    filer: int | None = None,
    assigned_to: int | None = None,
) -> Case:
    """A case in review about HOUSE (its member CONCERNED, if given), filed by FILER_NIK or,
    with FILER, by that member of HOUSE."""
    with app.app_context():
        filer_nik = house.members[filer].nik if filer is not None else FILER_NIK
        appeal = make_appeal(
            reason_code=reason,
            status=AppealStatus.VERIFIKASI,
            region=desa,
            filer_nik=filer_nik,
            filer_nik_hmac=pseudonym(filer_nik, "nik"),
            subject_kk_hmac=pseudonym(house.no_kk, "kk"),
            subject_nik=house.members[concerned].nik if concerned is not None else None,
            subject_nik_hmac=pseudonym(house.members[concerned].nik, "nik")
            if concerned is not None
            else None,
            subject_is_filer_household=filer is not None,
            period="2026Q3",
            note="Punya dua mobil baru.",
            contact_phone="081277334411",
            assigned_to_id=assigned_to,
        )
        db.session.add(appeal)
        db.session.commit()
        return Case(appeal.id, appeal.ticket, desa)


@pytest.fixture
def setup(app: Flask, staff: StaffFactory, cases: CaseFactory, town: Town) -> Setup:
    verifikator = staff.create("verifikator")
    case = case_about(app, town.target, concerned=1, assigned_to=verifikator.id)
    check_id = cases.field_check(case, verifikator.id)
    return Setup(town, case, check_id, staff.create("operator_desa", [BUNIBAKTI]), verifikator)


def small_photo(color: tuple[int, int, int] = (30, 120, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return buf.getvalue()


def send_form(
    client: Client, url: str, fields: dict[str, Any], files: dict[str, bytes] | None = None
) -> Page:
    """POST the task's multipart form like a browser (CSRF token from the task page)."""
    token = client.csrf_token(url)  # type: ignore[attr-defined]
    data: dict[str, Any] = {"csrf_token": token, **fields}
    if files:
        data["photos"] = [(io.BytesIO(body), name) for name, body in files.items()]
    response = client.post(url, data=data, content_type="multipart/form-data")
    if files:
        response.request.environ["wsgi.input"].close()
    page = Page(response)
    return checked(page) if "html" in response.content_type else page


def draft_photos(app: Flask, check_id: int) -> list[AppealPhoto]:
    with app.app_context():
        stmt = select(AppealPhoto).where(AppealPhoto.field_check_id == check_id)
        return list(db.session.scalars(stmt.order_by(AppealPhoto.id)))


def load_check(app: Flask, check_id: int) -> FieldCheck:
    with app.app_context():
        check = db.session.get(FieldCheck, check_id)
        assert check is not None
        return check


@pytest.fixture(autouse=True)
def _uploads(app: Flask, tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")


# --- the task --------------------------------------------------------------------------------


def test_the_task_shows_the_household_to_visit_and_the_reasons_checklist(
    app: Flask, sign_in, setup: Setup
) -> None:
    operator = sign_in(setup.operator)

    page = get(operator, setup.url)

    assert page.status == 200
    assert page.texts(".visit__head") == ["RAHMAT HIDAYAT"]
    [address] = page.texts(".visit__address")
    assert "KP. BUNI RT 003/RW 012" in address
    assert "Bunibakti" in address
    today = date.today()
    ages = [
        today.year - m.born.year - ((today.month, today.day) < (m.born.month, m.born.day))
        for m in setup.town.target.members
    ]
    assert page.texts(".members__item") == [
        f"RAHMAT HIDAYAT · Head of family · {ages[0]} years",
        f"ENI SURYANI · Child · {ages[1]} years · the person this case is about",
        f"ILHAM · Child · {ages[2]} years",
    ]
    legends = page.texts(".checklist legend")
    assert "Is the floor of the house tiled or ceramic (not earth or bamboo)?" in legends
    assert "Does the household own a car, several motorbikes, land or livestock?" in legends
    assert len(legends) == 8  # INC-MAMPU's checklist, nothing of another reason
    # no NIK of anyone, no filer: the operator needs names and the address, nothing more
    for member in setup.town.target.members:
        assert member.nik not in page.text
    assert FILER_NIK not in page.text
    assert "081277334411" not in page.text
    [viewed] = audit(app, "view_field_check")
    assert viewed.target_id == setup.check_id


def test_the_checklist_follows_the_reason(
    app: Flask, sign_in, staff: StaffFactory, cases: CaseFactory, town: Town
) -> None:
    verifikator = staff.create("verifikator")
    case = case_about(app, town.target, reason="INC-ASN", assigned_to=verifikator.id)
    check_id = cases.field_check(case, verifikator.id)
    operator = sign_in(staff.create("operator_desa", [BUNIBAKTI]))

    legends = get(operator, f"/staf/verval/{check_id}").texts(".checklist legend")

    assert legends[0] == (
        "Is anyone in the household ASN, TNI, Polri, an official or BUMN/BUMD staff?"
    )
    assert "Is the floor of the house tiled or ceramic (not earth or bamboo)?" not in legends


def test_the_filer_in_the_household_is_never_marked(
    app: Flask, sign_in, staff: StaffFactory, cases: CaseFactory, town: Town
) -> None:
    """A household filing about itself (the filer is its member 1, the case about member 1):
    the members are listed, as for any visit, but nobody is marked as the one concerned,
    which would tell the operator who filed."""
    verifikator = staff.create("verifikator")
    case = case_about(app, town.target, concerned=1, filer=1, assigned_to=verifikator.id)
    check_id = cases.field_check(case, verifikator.id)
    operator = sign_in(staff.create("operator_desa", [BUNIBAKTI]))

    page = get(operator, f"/staf/verval/{check_id}")

    assert page.status == 200
    assert len(page.texts(".members__item")) == 3
    assert "the person this case is about" not in page.text
    assert page.soup.select(".members__item strong") == []
    assert town.target.members[1].nik not in page.text


def test_a_household_living_in_another_desa_is_not_shown(
    app: Flask, sign_in, staff: StaffFactory, cases: CaseFactory, town: Town
) -> None:
    """The check is asked in Bunibakti but DTSEN has the household in Sagara Makmur: the
    Bunibakti operator does not see that household's members (household data is scoped by
    where DTSEN puts it)."""
    verifikator = staff.create("verifikator")
    case = case_about(app, town.sagara, assigned_to=verifikator.id)
    check_id = cases.field_check(case, verifikator.id)
    operator = sign_in(staff.create("operator_desa", [BUNIBAKTI]))

    page = get(operator, f"/staf/verval/{check_id}")

    assert page.status == 200
    assert page.texts(".members__item") == []
    for member in town.sagara.members:
        assert member.nama not in page.text
    assert "The household is not in DTSEN in your desa." in page.text


def test_a_name_the_filer_typed_is_labelled_as_theirs_never_as_the_head_of_household(
    app: Flask, sign_in, staff: StaffFactory, cases: CaseFactory
) -> None:
    """An INC-ASN sanggahan about another family, "Bu Siti" typed by the filer and not
    matched to DTSEN: the task and the case page say whose word the name is; "Head of
    household" is only ever DTSEN's head (the test above)."""
    verifikator = staff.create("verifikator")
    with app.app_context():
        appeal = make_appeal(
            reason_code="INC-ASN",
            status=AppealStatus.VERIFIKASI,
            region=BUNIBAKTI,
            filer_nik=FILER_NIK,
            subject_found=False,
            subject_name="Bu Siti",
            subject_alamat="KP. BUNI, dekat masjid",
            subject_rt="003",
            subject_rw="012",
            subject_kode_desa=BUNIBAKTI,
            assigned_to_id=verifikator.id,
        )
        db.session.add(appeal)
        db.session.commit()
        case = Case(appeal.id, appeal.ticket, BUNIBAKTI)
    check_id = cases.field_check(case, verifikator.id)
    operator = sign_in(staff.create("operator_desa", [BUNIBAKTI]))

    task = get(operator, f"/staf/verval/{check_id}")

    assert task.status == 200
    assert task.texts(".visit dt") == ["Name given by the filer", "Address"]
    assert task.texts(".visit__reported-name") == ["Bu Siti"]
    assert task.texts(".visit__head") == []
    assert "Head of household" not in task.text
    page = get(sign_in(verifikator), f"/staf/kasus/{case.id}")
    assert "Name given by the filer: Bu Siti" in page.texts(".reported .summary__line")
    assert "Head of household" not in page.text


def test_another_desas_operator_gets_404_for_the_task_and_its_draft(
    app: Flask, sign_in, staff: StaffFactory, setup: Setup
) -> None:
    elsewhere = sign_in(staff.create("operator_desa", [DESA]))

    assert get(elsewhere, setup.url).status == 404
    saved = post(elsewhere, setup.url, {"action": "draf", "finding": "Sudah saya lihat."})

    assert saved.status == 404
    assert count(app, FieldCheckDraft) == 0


# --- the draft ---------------------------------------------------------------------------------


def test_a_draft_keeps_text_checklist_and_photo_and_is_restored(
    app: Flask, sign_in, setup: Setup
) -> None:
    operator = sign_in(setup.operator)
    fields = {
        "action": "draf",
        "outcome": "confirmed",
        "finding": "Rumah dua lantai, ada mobil",
        "cek_floor": "yes",
        "cek_assets": "unknown",
    }

    saved = send_form(operator, setup.url, fields, {"IMG_1.jpg": phone_photo(1)})

    assert saved.status == 302, errors(saved)
    assert location(saved) == setup.url
    page = follow(operator, saved)
    assert "Draft saved. You can come back to it later." in page.texts(".notice--success")
    assert page.soup.find("textarea", attrs={"name": "finding"}).get_text().strip() == (
        "Rumah dua lantai, ada mobil"
    )
    assert page.soup.find("input", attrs={"name": "cek_floor", "value": "yes"}).has_attr("checked")
    assert page.soup.find("input", attrs={"name": "cek_assets", "value": "unknown"}).has_attr(
        "checked"
    )
    assert page.soup.find("input", attrs={"name": "outcome", "value": "confirmed"}).has_attr(
        "checked"
    )
    assert "1 photo is kept with it." in " ".join(page.texts(".draft-note"))
    [photo] = draft_photos(app, setup.check_id)
    assert photo.appeal_id is None  # not on the case until sent
    assert photo.width == 2048  # a 12 MP phone photo, made smaller like any upload
    listed = get(operator, "/staf/verval")
    assert "draft saved" in listed.texts(".check-list li")[0]
    [event] = audit(app, "save_field_check_draft")
    assert event.target_id == setup.check_id
    assert load_check(app, setup.check_id).done_at is None


def test_a_refused_send_keeps_the_photo_and_the_text(app: Flask, sign_in, setup: Setup) -> None:
    operator = sign_in(setup.operator)

    refused = send_form(
        operator, setup.url, {"finding": "Rumah besar sekali."}, {"rumah.jpg": small_photo()}
    )

    assert refused.status == 400
    assert "Choose what you found." in errors(refused)
    assert len(draft_photos(app, setup.check_id)) == 1
    again = get(operator, setup.url)
    assert again.soup.find("textarea", attrs={"name": "finding"}).get_text().strip() == (
        "Rumah besar sekali."
    )


def test_sending_records_the_checklist_attaches_the_photos_and_ends_the_draft(
    app: Flask, sign_in, setup: Setup
) -> None:
    operator = sign_in(setup.operator)
    send_form(
        operator,
        setup.url,
        {"action": "draf", "finding": "Draf pertama."},
        {"a.jpg": small_photo()},
    )

    sent = send_form(
        operator,
        setup.url,
        {
            "outcome": "confirmed",
            "finding": "Rumah dua lantai dan dua mobil di garasi.",
            "cek_big_house": "yes",
            "cek_floor": "yes",
            "cek_assets": "no",
        },
        {"b.jpg": small_photo((200, 10, 10))},
    )

    assert sent.status == 302, errors(sent)
    assert location(sent) == "/staf/verval"
    check = load_check(app, setup.check_id)
    assert check.checklist == {"big_house": "yes", "floor": "yes", "assets": "no"}
    assert check.outcome == "confirmed"
    photos = draft_photos(app, setup.check_id)
    assert [p.appeal_id for p in photos] == [setup.case.id, setup.case.id]
    assert count(app, FieldCheckDraft) == 0
    [event] = audit(app, "record_field_check")
    assert event.after["checklist"] == check.checklist

    # the verifikator reads each answer with its question on the case page
    case_page = get(sign_in(setup.verifikator), f"/staf/kasus/{setup.case.id}")
    rows = case_page.texts(".checklist-answers .summary__row")
    assert "Is the house large or well built compared with the neighbours? Yes" in rows
    assert "Does the household own a car, several motorbikes, land or livestock? No" in rows
    assert "Do the RT/RW or the neighbours confirm the report? Not answered" in rows

    # sent once: a second send changes nothing
    again = send_form(operator, setup.url, {"outcome": "not_confirmed", "finding": "x" * 20})
    assert again.status == 200
    assert load_check(app, setup.check_id).outcome == "confirmed"


def test_bad_input_is_refused_with_a_message(app: Flask, sign_in, setup: Setup) -> None:
    operator = sign_in(setup.operator)

    wrong = send_form(
        operator,
        setup.url,
        {"outcome": "confirmed", "finding": "Sudah dicek di lapangan.", "cek_floor": "maybe"},
    )
    long_draft = send_form(operator, setup.url, {"action": "draf", "finding": "x" * 2001})
    no_token = operator.post(setup.url, data={"action": "draf", "finding": "Tanpa token."})

    assert wrong.status == 400
    assert errors(wrong)
    assert load_check(app, setup.check_id).done_at is None
    assert long_draft.status == 400
    assert "Write between 10 and 2000 characters." in long_draft.text
    assert no_token.status_code == 400
    assert "this one had expired" in no_token.get_data(as_text=True)
    assert count(app, FieldCheckDraft) == 1  # only the refused send's own (valid) text
    with app.app_context():
        draft = db.session.get(FieldCheckDraft, setup.check_id)
        assert draft is not None
        assert draft.answers["checklist"] == {}  # "maybe" is no answer


def test_photos_beyond_the_limit_are_refused_with_the_draft_kept(
    app: Flask, sign_in, setup: Setup
) -> None:
    operator = sign_in(setup.operator)
    three = {f"{i}.jpg": small_photo((i * 40, 0, 0)) for i in range(3)}
    assert send_form(operator, setup.url, {"action": "draf"}, three).status == 302

    more = send_form(operator, setup.url, {"action": "draf"}, {"4.jpg": small_photo()})

    assert more.status == 400
    assert len(draft_photos(app, setup.check_id)) == 3
    assert "The most photos there can be are kept." in get(operator, setup.url).text


# --- history and home ------------------------------------------------------------------------


def test_the_history_lists_what_the_operator_sent_and_nothing_else(
    app: Flask, sign_in, staff: StaffFactory, cases: CaseFactory, setup: Setup
) -> None:
    operator = sign_in(setup.operator)
    colleague = staff.create("operator_desa", [BUNIBAKTI])
    theirs = cases.field_check(setup.case, setup.verifikator.id, done_by=colleague.id)
    send_form(
        operator,
        setup.url,
        {"outcome": "not_confirmed", "finding": "Rumah kecil, tidak ada mobil."},
    )

    page = get(operator, "/staf/riwayat-verval")

    [row] = page.texts(".history__item")
    assert setup.case.shown in row
    assert "Not confirmed: the report is not right" in row
    assert "Rumah kecil, tidak ada mobil." in row
    assert f"/staf/verval/{theirs}" not in page.text
    assert get(sign_in(colleague), "/staf/riwayat-verval").texts(".history__item") == [
        row.replace("Rumah kecil, tidak ada mobil.", "The family lives there, as reported.")
        .replace(f"verval/{setup.check_id}", f"verval/{theirs}")
        .replace("Not confirmed: the report is not right", "Confirmed: the report is right")
    ]


def test_the_history_is_the_operators_alone(
    app: Flask, sign_in, staff: StaffFactory, setup: Setup
) -> None:
    verifikator = sign_in(setup.verifikator)
    assert get(verifikator, "/staf/riwayat-verval").status == 403


def test_an_operators_home_is_the_task_list(
    app: Flask, sign_in, staff: StaffFactory, setup: Setup
) -> None:
    operator = sign_in(setup.operator)
    home = get(operator, "/staf/")
    assert home.status == 302
    assert location(home) == "/staf/verval"
    tasks = follow(operator, home)
    assert setup.case.shown in " ".join(tasks.texts(".check-list li"))
    # the queue of the desa stays reachable, with a filter
    assert get(operator, "/staf/?status=").status == 200
    # the verifikator's home is still the queue
    assert get(sign_in(setup.verifikator), "/staf/").status == 200


def test_signing_in_lands_an_operator_on_the_task_list(
    app: Flask, staff: StaffFactory, setup: Setup
) -> None:
    client = app.test_client()
    staff.login(setup.operator, client)  # type: ignore[arg-type]
    response = client.get("/staf/", follow_redirects=True)
    assert response.request.path == "/staf/verval"


# --- the service ---------------------------------------------------------------------------


def test_the_service_refuses_another_desa_and_a_sent_check(
    app: Flask, staff: StaffFactory, setup: Setup
) -> None:
    elsewhere = staff.create("operator_desa", [DESA])
    with app.app_context():
        check = db.session.get(FieldCheck, setup.check_id)
        assert check is not None
        appeal = db.session.get(Appeal, setup.case.id)
        user = db.session.get(StaffUser, elsewhere.id)
        owner = db.session.get(StaffUser, setup.operator.id)
        assert user is not None
        assert owner is not None
        assert appeal is not None
        with pytest.raises(fieldwork.NotAllowed):
            fieldwork.save_draft(check, appeal, user, {})
        fieldwork.send(check, owner, "unclear", "Tidak ada orang di rumah.", {})
        with pytest.raises(fieldwork.NotAllowed):
            fieldwork.send(check, owner, "confirmed", "Sekali lagi dikirim.", {})
        with pytest.raises(fieldwork.NotAllowed):
            fieldwork.save_draft(check, appeal, owner, {})
