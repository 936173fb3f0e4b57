"""Photos of the size phones take (12 MP, 3-5 MB JPEG with GPS in the EXIF), sent the way
the portal is deployed (HTTPS, browser headers), on the citizen's photo step and on the desa
operator's field check; the small site-wide body limit stays for every other form."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from portal import db
from portal.appeals.models import AppealPhoto
from portal.review.models import FieldCheck
from tests.appeals.conftest import answers_for, publish_world, walk
from tests.fixtures.staff import StaffFactory
from tests.helpers import Browser, Page
from tests.photos import phone_photo
from tests.review.conftest import CaseFactory


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    made = {
        "rumah.jpg": phone_photo(1),
        "dapur.jpg": phone_photo(2),
        "besar.jpg": phone_photo(3, (4600, 3450), quality=95),  # a 16 MP photo over 5 MB
    }
    assert 3_000_000 < len(made["rumah.jpg"]) < 5_000_000
    assert 3_000_000 < len(made["dapur.jpg"]) < 5_000_000
    assert len(made["besar.jpg"]) > 5 * 1024 * 1024
    return made


@pytest.fixture
def phone(app: Flask, tmp_path: Path) -> Browser:
    app.config.update(UPLOAD_DIR=str(tmp_path / "uploads"), SESSION_COOKIE_SECURE=True)
    client = Browser(app, app.response_class)
    return client.choose_language("en")


def send(client: Browser, url: str, files: dict[str, bytes], **fields: str) -> Page:
    """Post the multipart form of URL like a browser, with the chosen files."""
    data = {
        "csrf_token": client.csrf_token(url),
        **fields,
        "photos": [(io.BytesIO(body), name) for name, body in files.items()],
    }
    response = client.post(url, data=data, content_type="multipart/form-data")
    # the test client spools a large body to a temporary file and never closes it
    response.request.environ["wsgi.input"].close()
    page = Page(response)
    return page.check() if page.status not in (302, 303) else page


def stored(app: Flask) -> list[Path]:
    directory = Path(app.config["UPLOAD_DIR"])
    return sorted(directory.glob("*.jpg")) if directory.exists() else []


def test_two_phone_photos_in_one_step_are_accepted_and_cleaned(
    app: Flask, phone: Browser, factory, photos: dict[str, bytes]
) -> None:
    world = publish_world(factory)
    walk(phone, "sanggahan", answers_for(world, "INC-MAMPU"), stop_at="foto")
    chosen = {k: photos[k] for k in ("rumah.jpg", "dapur.jpg")}

    page = send(phone, "/sanggahan/foto", chosen, action="upload")

    assert page.status == 302, page.error_summary_text()
    assert "2 photos added" in phone.page("/sanggahan/foto")
    kept = stored(app)
    assert len(kept) == 2
    for path in kept:
        assert path.stat().st_size < 1_500_000
        with Image.open(path) as im:
            assert max(im.size) == 2048
            assert not im.getexif()


def test_a_photo_over_the_limit_is_named_and_the_others_are_kept(
    app: Flask, phone: Browser, factory, photos: dict[str, bytes]
) -> None:
    world = publish_world(factory)
    walk(phone, "sanggahan", answers_for(world, "INC-MAMPU"), stop_at="foto")
    chosen = {k: photos[k] for k in ("rumah.jpg", "besar.jpg")}

    sent = send(phone, "/sanggahan/foto", chosen, action="continue")

    assert sent.status == 303  # to the GET of the photo page, which shows the refusal
    page = phone.page(sent.response.headers["Location"])
    assert page.error_summary_text() == [
        "besar.jpg: The photo is larger than 5 MB. Choose a smaller one."
    ]
    assert "1 photo added" in page
    assert len(stored(app)) == 1
    skip = page.soup.find("form", class_="skip-form")
    assert skip is not None
    assert skip.get("enctype") is None
    assert not skip.find("input", attrs={"type": "file"})


def test_the_operator_sends_a_field_check_with_a_phone_photo(
    app: Flask, phone: Browser, staff: StaffFactory, photos: dict[str, bytes]
) -> None:
    cases = CaseFactory(app)
    verifikator = staff.create("verifikator")
    case = cases.make()
    check_id = cases.field_check(case, verifikator.id)
    staff.login(staff.create("operator_desa"), phone)
    url = f"/staf/verval/{check_id}"
    finding = "The family has a new car and a two-storey house."

    refused = send(
        phone, url, {"besar.jpg": photos["besar.jpg"]}, outcome="confirmed", finding=finding
    )
    assert refused.status == 400
    assert "besar.jpg" in " ".join(refused.error_summary_text())
    assert refused.soup.find("textarea", attrs={"name": "finding"}).get_text().strip() == finding
    assert stored(app) == []

    sent = send(
        phone, url, {"rumah.jpg": photos["rumah.jpg"]}, outcome="confirmed", finding=finding
    )

    assert sent.status == 302, sent.error_summary_text()
    with app.app_context():
        check = db.session.get(FieldCheck, check_id)
        assert check is not None
        assert check.finding == finding
        [photo] = db.session.scalars(select(AppealPhoto).where(AppealPhoto.appeal_id == case.id))
        assert photo.field_check_id == check_id
        assert photo.width == 2048


def test_other_forms_keep_the_small_body_limit(phone: Browser) -> None:
    token = phone.csrf_token("/")
    response = phone.post("/", data={"csrf_token": token, "nik": "1" * 100_000})
    assert response.status_code == 413
