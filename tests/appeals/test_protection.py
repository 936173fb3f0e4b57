"""Protection of the people in a case: the reported household learns nothing about the case
or who filed it, no public page lists names, evidence photos lose their metadata and stay
out of public reach, and the filer step is rate limited per address."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from portal import db
from portal.appeals import photos as photolib
from portal.appeals.models import AppealPhoto
from portal.appeals.states import AppealStatus
from tests.appeals.conftest import (
    PDF_BYTES,
    answers_for,
    decide,
    jpeg_with_gps,
    load_case,
    path_of,
    png_bytes,
    track,
    walk,
)
from tests.helpers import SIXTEEN_DIGITS, Client, Page

NAMES = ("BUDI SANTOSO", "SITI AMINAH", "AHMAD FAUZI")


def main_text(page: Page) -> str:
    return page.soup.main.get_text(" ", strip=True)


def look_up(client: Client, nik: str, no_kk: str) -> Page:
    return client.post_form("/", {"nik": nik, "no_kk": no_kk}, status=200, follow_redirects=True)


# --- the reported household -----------------------------------------------------------------


def test_reported_household_looking_itself_up_sees_nothing_of_the_case(
    client: Client, app, world, file_case
) -> None:
    reported = world.other
    before = main_text(look_up(client, reported.members[0].nik, reported.no_kk))
    ticket = file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    decide(app, ticket, AppealStatus.DISETUJUI, reason="verified_in_field")
    visitor = app.test_client()
    visitor.choose_language("en")

    after = look_up(visitor, reported.members[0].nik, reported.no_kk)

    assert main_text(after) == before
    assert ticket not in after.text
    assert ticket.replace("-", "") not in after.text


def test_tracking_with_the_reported_households_numbers_finds_nothing(
    client: Client, world, file_case
) -> None:
    ticket = file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    for member in world.other.members:
        page = track(client, ticket, member.nik, follow_redirects=True)
        assert page.status == 200
        assert "No case found with this ticket number and NIK." in page
        assert [r.headers["Location"] for r in page.redirects] == ["/lacak"]


def test_numbers_typed_while_filing_never_sit_in_the_session_cookie(
    client: Client, app, world
) -> None:
    walk(client, "usulan", answers_for(world, "USUL-AHLI-WARIS"))

    cookie = client.get_cookie("dtsen_session").value
    data = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert set(data) <= {"csrf_token", "drafts", "lang", "_flashes"}
    # the CSRF token is 40 random hex digits: 16 decimal ones in a row happen about once in
    # 75 sessions, so the numbers are looked for everywhere else
    assert not SIXTEEN_DIGITS.search(repr({k: v for k, v in data.items() if k != "csrf_token"}))


# --- no names on public pages ---------------------------------------------------------------


@pytest.mark.parametrize("code", ["INC-MAMPU", "EXC-DESIL-SALAH", "USUL-AHLI-WARIS"])
def test_no_public_page_of_a_case_shows_a_name(
    client: Client, app, world, file_case, code: str
) -> None:
    kind = "usulan" if code.startswith("USUL") else "sanggahan"
    answers = answers_for(world, code)
    walk(client, kind, answers)
    pages = [client.page(url) for url in ("/", "/ajukan", "/lacak", f"/{kind}/periksa")]
    pages += [client.page(f"/{kind}/{slug}") for slug in answers if slug != "alasan"]
    ticket = file_case(client, kind, answers)
    pages.append(client.page("/tanda-terima"))
    track(client, ticket, world.filer_nik)
    pages.append(client.page("/lacak/kasus"))
    decide(app, ticket, AppealStatus.DITOLAK)
    pages.append(client.page("/lacak/kasus"))

    for page in pages:
        for name in NAMES:
            assert name not in page.text.upper(), f"{name} on {page.response.request.path}"


# --- photos ---------------------------------------------------------------------------------


@pytest.fixture
def uploads(app, tmp_path: Path) -> Path:
    directory = tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = str(directory)
    return directory


@pytest.fixture
def at_photos(client: Client, world) -> str:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"), stop_at="foto")
    return "/sanggahan/foto"


def upload(client: Client, url: str, *files: tuple[bytes, str]) -> Page:
    token = client.csrf_token(url)
    data = {
        "csrf_token": token,
        "action": "upload",
        "photos": [(io.BytesIO(body), name) for body, name in files],
    }
    page = Page(client.post(url, data=data, content_type="multipart/form-data"))
    if page.status == 303:  # refused: the GET of the photo page shows why
        assert page.response.headers["Location"] == url
        return client.page(url)
    return page.check() if page.status != 302 else page


def stored(directory: Path) -> list[Path]:
    return sorted(directory.glob("*")) if directory.exists() else []


def test_photo_with_gps_is_stored_without_any_metadata(
    client: Client, app, uploads: Path, at_photos: str, file_case, world
) -> None:
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as im:
        assert im.getexif().get_ifd(0x8825)  # the upload really carries a GPS position

    added = upload(client, at_photos, (original, "rumah tetangga.jpg"))

    assert (added.status, path_of(added)) == (302, at_photos)
    page = client.page(at_photos)
    assert "Photo added." in page
    assert "1 photo added" in page
    [path] = stored(uploads)
    data = path.read_bytes()
    assert b"Exif" not in data
    assert b"PhoneMaker" not in data
    with Image.open(path) as im:
        assert im.format == "JPEG"
        assert not im.getexif()
        assert "exif" not in im.info
    assert "rumah" not in path.name
    ticket = file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    with app.app_context():
        [photo] = db.session.scalars(select(AppealPhoto))
        assert photo.appeal_id == load_case(app, ticket).id
        assert photo.storage_key == path.name


def test_png_is_accepted_and_stored_as_jpeg(client: Client, uploads: Path, at_photos) -> None:
    assert upload(client, at_photos, (png_bytes(), "foto.png")).status == 302
    [path] = stored(uploads)
    with Image.open(path) as im:
        assert im.format == "JPEG"


@pytest.mark.parametrize(
    ("body", "name", "problem"),
    [
        (PDF_BYTES, "bukti.jpg", "The file is not a photo."),
        (b"GIF89a" + b"\x00" * 40, "animasi.jpg", "This kind of picture is not accepted."),
        (b"", "kosong.jpg", "The file is empty."),
        (jpeg_with_gps()[:200], "rusak.jpg", "The photo is damaged or incomplete."),
    ],
    ids=["pdf-renamed", "gif", "empty", "truncated"],
)
def test_bad_file_is_refused_with_a_message_naming_it(
    client: Client, uploads: Path, at_photos: str, body: bytes, name: str, problem: str
) -> None:
    page = upload(client, at_photos, (body, name))

    assert page.status == 200
    assert f"{name}: {problem}" in page
    assert page.soup.select_one(".error-summary a[href='#photos']")
    assert stored(uploads) == []


def test_more_photos_than_there_is_room_for_are_refused_before_decoding(
    client: Client, uploads: Path, at_photos: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = [(jpeg_with_gps(colour=(i * 60, 10, 10)), f"foto{i}.jpg") for i in range(4)]
    decoded: list[object] = []
    real = photolib.sanitise
    monkeypatch.setattr(photolib, "sanitise", lambda *a, **k: decoded.append(1) or real(*a, **k))

    page = upload(client, at_photos, *photos)

    assert page.status == 200
    assert "You chose 4 photos, but only 3 more can be added. Choose fewer." in page
    assert decoded == [], "a photo was decoded although the count was over"
    assert stored(uploads) == []
    assert upload(client, at_photos, *photos[:3]).status == 302
    full = client.page(at_photos)
    assert "3 photos added" in full
    assert not full.soup.find("input", attrs={"type": "file"})
    assert "Remove one to add another" in upload(client, at_photos, photos[3])
    assert len(stored(uploads)) == 3


def test_photo_larger_than_the_limit_is_refused(
    client: Client, app, uploads: Path, at_photos: str
) -> None:
    app.config["PHOTO_MAX_BYTES"] = 2_000
    noisy = Image.frombytes("RGB", (80, 80), random.Random(1).randbytes(80 * 80 * 3))
    buf = io.BytesIO()
    noisy.save(buf, "JPEG", quality=95)
    assert len(buf.getvalue()) > 2_000

    page = upload(client, at_photos, (buf.getvalue(), "besar.jpg"))

    assert page.status == 200
    assert "besar.jpg: The photo is larger than" in page
    assert stored(uploads) == []


def test_body_over_the_photo_page_limit_shows_the_photo_page_with_the_way_on(
    client: Client, app, uploads: Path, at_photos: str
) -> None:
    app.config["UPLOAD_MAX_BODY_BYTES"] = 300_000

    page = upload(client, at_photos, (b"\xff\xd8\xff" + bytes(400_000), "video.jpg"))

    assert page.status == 200  # the POST was answered 303: the GET shows why nothing was added
    assert page.h1 == "Photos"
    assert "larger than" in " ".join(page.error_summary_text())
    assert stored(uploads) == []
    skip = page.soup.find("form", class_="skip-form")
    assert skip is not None
    assert not skip.find("input", attrs={"type": "file"})
    again = client.page(at_photos).soup.find("form", class_="skip-form")
    sent = client.post(again["action"], data={i["name"]: i["value"] for i in again("input")})
    assert sent.status_code == 302
    assert "/sanggahan/kontak" in sent.headers["Location"]


def test_a_photo_far_over_its_limit_is_named_and_only_its_first_bytes_are_kept(
    client: Client, app, uploads: Path, at_photos: str
) -> None:
    app.config["PHOTO_MAX_BYTES"] = 2_000

    page = upload(client, at_photos, (b"\xff\xd8\xff" + bytes(400_000), "video.jpg"))

    assert page.status == 200
    assert "video.jpg: The photo is larger than" in page
    assert stored(uploads) == []


NO_PHOTO_CHOSEN = "Choose a photo first, or press Continue to go on without one."


def empty_file_input() -> tuple[io.BytesIO, str]:
    """What a browser sends for a file input left empty: a part with no file name."""
    return io.BytesIO(b""), ""


@pytest.mark.parametrize("returning", [False, True], ids=["on-the-way", "from-check-answers"])
def test_add_photos_without_a_photo_stays_on_the_photo_step_with_an_error(
    client: Client, uploads: Path, at_photos: str, returning: bool
) -> None:
    url = at_photos + ("?return=check" if returning else "")
    data = {"csrf_token": client.csrf_token(url), "action": "upload", "photos": empty_file_input()}
    if returning:
        data["return"] = "check"

    sent = Page(client.post(url, data=data, content_type="multipart/form-data"))

    assert (sent.status, sent.response.headers["Location"]) == (303, url)
    page = client.page(url)
    assert page.h1 == "Photos"
    assert page.error_summary() == [NO_PHOTO_CHOSEN]
    assert page.soup.select_one(".error-summary a[href='#photos']")
    assert NO_PHOTO_CHOSEN in page.soup.select_one("#photos-error").get_text()
    assert stored(uploads) == []


def test_continue_without_a_photo_still_goes_on(client: Client, at_photos: str) -> None:
    data = {
        "csrf_token": client.csrf_token(at_photos),
        "action": "continue",
        "photos": empty_file_input(),
    }

    sent = Page(client.post(at_photos, data=data, content_type="multipart/form-data"))

    assert (sent.status, path_of(sent)) == (302, "/sanggahan/kontak")


def test_a_photo_can_be_removed_before_sending(client: Client, uploads: Path, at_photos) -> None:
    upload(client, at_photos, (jpeg_with_gps(), "foto.jpg"))
    page = client.page(at_photos)
    action = page.soup.find(
        "button", attrs={"name": "action", "value": True, "class": "button--link"}
    )
    token = client.csrf_token(at_photos)

    removed = client.post(at_photos, data={"csrf_token": token, "action": action["value"]})

    assert removed.status_code == 302
    assert stored(uploads) == []


def test_uploaded_photos_are_not_reachable_under_static(
    client: Client, app, uploads: Path, at_photos: str
) -> None:
    assert Path(app.static_folder).resolve() not in uploads.resolve().parents
    upload(client, at_photos, (jpeg_with_gps(), "foto.jpg"))
    [path] = stored(uploads)

    for url in (f"/static/{path.name}", f"/static/uploads/{path.name}", f"/uploads/{path.name}"):
        assert client.get(url).status_code == 404


def test_default_upload_directory_is_outside_static() -> None:
    from portal.config import ROOT, Config

    upload_dir = Path(Config.UPLOAD_DIR).resolve()
    assert (ROOT / "static").resolve() not in upload_dir.parents


# --- rate limits on the filer step ----------------------------------------------------------


def test_filer_step_is_limited_per_address_with_retry_after(
    limited_app, limited_client: Client, limited_world
) -> None:
    limited_app.config["APPEAL_LIMIT"] = "3 per minute"
    answers = answers_for(limited_world, "INC-MAMPU")
    assert limited_client.post_form("/sanggahan/alasan", answers["alasan"]).status == 302
    for __ in range(3):
        assert limited_client.post_form("/sanggahan/pelapor", answers["pelapor"]).status == 302

    refused = limited_client.post_form("/sanggahan/pelapor", answers["pelapor"])

    assert refused.status == 429
    assert int(refused.response.headers["Retry-After"]) > 0
    assert limited_client.page("/sanggahan/subjek").status == 200  # other steps still open
    elsewhere = limited_app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert elsewhere.post_form("/sanggahan/alasan", answers["alasan"]).status == 302
    assert elsewhere.post_form("/sanggahan/pelapor", answers["pelapor"]).status == 302


def test_probing_a_nik_on_the_filer_step_counts_with_the_lookup(
    limited_app, limited_client: Client, limited_world
) -> None:
    limited_app.config["APPEAL_LIMIT"] = "100 per minute"
    nik = limited_world.filer_nik
    wrong_kk = limited_world.other.no_kk
    limited_client.post_form("/sanggahan/alasan", {"reason": "INC-MAMPU"})
    for __ in range(3):  # DTSEN_FREE_MISSES is 3 in limited_app
        page = limited_client.post_form("/sanggahan/pelapor", {"nik": nik, "no_kk": wrong_kk})
        assert page.status == 303  # back to the page, with "not found"

    right = {"nik": nik, "no_kk": limited_world.filer.no_kk}
    for url in ("/sanggahan/pelapor", "/"):  # the NIK's misses count on every route
        waiting = limited_client.post_form(url, right)
        assert waiting.status == 429
        assert waiting.soup.find("input", attrs={"name": "wait"}) is not None


def test_guessing_the_filers_nik_for_a_ticket_is_limited(
    limited_client: Client, limited_world, file_case
) -> None:
    """Someone holding a receipt (or a photo of one) cannot try NIKs until one fits."""
    ticket = file_case(limited_client, "sanggahan", answers_for(limited_world, "INC-MAMPU"))
    for member in limited_world.other.members + limited_world.third.members[:1]:
        assert track(limited_client, ticket, member.nik).status == 303  # back: not found

    refused = track(limited_client, ticket, limited_world.filer_nik)

    assert refused.status == 429
    assert "Retry-After" in refused.response.headers


# --- drafts and photo posts are not free in bulk ----------------------------------------------


def start_draft(app, address: str) -> Page:
    """A new browser (no draft yet) answers the first question from ADDRESS."""
    browser = app.test_client()
    browser.environ_base.update(REMOTE_ADDR=address)
    browser.choose_language("en")
    return browser.post_form("/sanggahan/alasan", {"reason": "INC-MAMPU"})


def test_new_drafts_are_limited_per_client_network(limited_app, limited_world) -> None:
    limited_app.config["DRAFT_LIMIT"] = "2 per hour"

    started = [start_draft(limited_app, "10.7.0.1").status for __ in range(3)]

    assert started == [302, 302, 429]
    assert start_draft(limited_app, "10.7.0.2").status == 302


def test_answering_again_within_a_draft_is_not_a_new_draft(
    limited_app, limited_client: Client, limited_world
) -> None:
    limited_app.config["DRAFT_LIMIT"] = "1 per hour"
    assert limited_client.post_form("/sanggahan/alasan", {"reason": "INC-MAMPU"}).status == 302
    for reason in ("INC-ASN", "INC-PINDAH"):
        page = limited_client.post_form("/sanggahan/alasan", {"reason": reason})
        assert page.status == 302


def test_posts_to_the_photo_page_are_limited_per_client_network(
    limited_app, limited_client: Client, limited_world
) -> None:
    limited_app.config["PHOTO_LIMIT"] = "3 per hour"
    walk(limited_client, "sanggahan", answers_for(limited_world, "INC-MAMPU"), stop_at="foto")
    statuses = []
    for __ in range(4):
        token = limited_client.csrf_token("/sanggahan/foto")
        response = limited_client.post(
            "/sanggahan/foto", data={"csrf_token": token, "action": "remove:0"}
        )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 302, 429]
