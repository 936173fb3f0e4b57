"""The Dinas Sosial contact of each kabupaten/kota: loaded from a data file by the deployer
(idempotent, a bad file refused whole with ``line N: reason``), edited by that kabupaten's
admin_dinsos only (audited, CSRF, other roles 403, another area 404), shown on the look-up
result (the general channels where there is none), marked when it is demo data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from portal import db
from portal.audit.models import AuditEvent
from portal.help import loader
from portal.help.models import DinsosContact
from tests.fixtures.factories import Factory
from tests.fixtures.staff import StaffFactory
from tests.helpers import Client, Page

HEADER = "kode_kabupaten,nama_kantor,alamat,telepon,whatsapp,email,jam_layanan\n"
BEKASI = (
    "32.16,Dinas Sosial Kabupaten Uji,Jl. Uji Coba No. 1,021 555 0101,0812 5550 1020,,"
    "Senin-Jumat 08.00-15.00 WIB\n"
)
KOTA_BEKASI_DESA = "32.75.01.1001"
GENERAL = "the Dinas Sosial of your kabupaten/kota."


def contacts_file(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "k.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def import_contacts(runner: FlaskCliRunner, path: Path | None = None) -> Any:
    return runner.invoke(args=["wilayah", "contacts", "import", *([str(path)] if path else [])])


def rows(app: Flask) -> list[tuple[Any, ...]]:
    with app.app_context():
        found = db.session.execute(
            select(
                DinsosContact.kabupaten_code,
                DinsosContact.office_name,
                DinsosContact.address,
                DinsosContact.phone,
                DinsosContact.whatsapp,
                DinsosContact.email,
                DinsosContact.hours,
                DinsosContact.is_demo,
            ).order_by(DinsosContact.kabupaten_code)
        )
        return [tuple(r) for r in found]


def audit(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def contact_section(page: Page) -> str:
    section = page.soup.select_one("section.contact")
    assert section is not None, "no contact section"
    return section.get_text(" ", strip=True)


def look_up(client: Client, nik: str, no_kk: str) -> Page:
    """The look-up as a browser does it (following a redirect to the result, if any)."""
    page = client.post_form("/?lang=en", {"nik": nik, "no_kk": no_kk}, follow_redirects=True)
    assert page.status == 200
    return page


# --- the data file ---------------------------------------------------------------------------


def test_the_shipped_file_holds_a_header_and_no_invented_contact(
    app: Flask, runner: FlaskCliRunner
) -> None:
    assert loader.SHIPPED.read_text(encoding="utf-8") == HEADER
    result = import_contacts(runner)
    assert result.exit_code == 0, result.output
    assert "0 added, 0 updated, 0 unchanged" in result.output
    assert rows(app) == []


def test_import_adds_then_changes_nothing_then_updates_what_changed(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = contacts_file(tmp_path, BEKASI, "32.75,,Jl. Kota No. 2,,,dinsos@kota.example.go.id,\n")

    first = import_contacts(runner, path)
    assert first.exit_code == 0, first.output
    assert "2 added, 0 updated, 0 unchanged" in first.output
    assert rows(app) == [
        (
            "32.16",
            "Dinas Sosial Kabupaten Uji",
            "Jl. Uji Coba No. 1",
            "021 555 0101",
            "0812 5550 1020",
            None,
            "Senin-Jumat 08.00-15.00 WIB",
            False,
        ),
        ("32.75", None, "Jl. Kota No. 2", None, None, "dinsos@kota.example.go.id", None, False),
    ]

    again = import_contacts(runner, path)
    assert "0 added, 0 updated, 2 unchanged" in again.output
    assert len(audit(app, "contact_import")) == 2  # nothing written, nothing audited

    changed = contacts_file(tmp_path, BEKASI.replace("No. 1", "No. 11"), name="k2.csv")
    third = import_contacts(runner, changed)
    assert "0 added, 1 updated, 0 unchanged" in third.output
    assert rows(app)[0][2] == "Jl. Uji Coba No. 11"
    assert rows(app)[1][2] == "Jl. Kota No. 2"  # not in the file: kept
    events = audit(app, "contact_import")
    assert len(events) == 3
    assert events[-1].before["address"] == "Jl. Uji Coba No. 1"
    assert events[-1].after["address"] == "Jl. Uji Coba No. 11"
    assert events[-1].staff_id is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("kode,alamat\n32.16,Jl. A\n", "line 1: the header must be kode_kabupaten,nama_kantor"),
        (HEADER + "32.16,,,,,,\n", "line 2: alamat is required"),
        (HEADER + BEKASI + "32.75,,Jl. B,12345,,,\n", "line 3: telepon: 6 to 15 digits"),
        (HEADER + "32.75,,Jl. B,,0812-ABC,,\n", "line 2: whatsapp: only digits"),
        (HEADER + "32.75,,Jl. B,,,not-an-address,\n", "line 2: email: an e-mail address"),
        (HEADER + "32.16.01,,Jl. B,,,,\n", "line 2: kode_kabupaten must be a kabupaten/kota code"),
        (HEADER + "99.99,,Jl. B,,,,\n", "line 2: 99.99 is not a kabupaten/kota in the region"),
        (HEADER + BEKASI + BEKASI, "line 3: kabupaten/kota 32.16 is already on line 2"),
        (HEADER + "32.16,,Jl. B,,,\n", "line 2: fewer columns than the header"),
        (HEADER + "32.16,,Jl. B,,,,,extra\n", "line 2: more columns than the header"),
        (HEADER + "32.16,," + "x" * 301 + ",,,,\n", "line 2: alamat is longer than 300"),
    ],
)
def test_a_bad_file_is_refused_whole_with_the_line_and_reason(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")

    result = import_contacts(runner, path)

    assert result.exit_code != 0
    assert problem in result.output
    assert "was not loaded" in result.output
    assert rows(app) == []  # nothing written, the good lines included
    assert audit(app, "contact_import") == []


def test_a_file_that_is_not_utf8_is_refused_with_its_line(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    text = HEADER + "32.16,,Jl. Cipta Karya,,,,\n32.75,,Jl. S\xe9,,,,\n"
    path.write_bytes(text.encode("latin-1"))
    result = import_contacts(runner, path)
    assert result.exit_code != 0
    assert "line 3: not UTF-8 text" in result.output


# --- shown to citizens ---------------------------------------------------------------------------


def test_the_lookup_result_shows_the_contact_of_the_household_s_kabupaten(
    client: Client, factory: Factory, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bekasi = factory.household(desil=2)
    kota = factory.household(desil=2, desa=KOTA_BEKASI_DESA)
    factory.publish("2026Q3", [bekasi, kota])
    import_contacts(runner, contacts_file(tmp_path, BEKASI))

    page = look_up(client, bekasi.members[0].nik, bekasi.no_kk)
    text = contact_section(page)
    for shown in (
        "Dinas Sosial Kabupaten Uji",
        "Jl. Uji Coba No. 1",
        "Senin-Jumat 08.00-15.00 WIB",
        "021 555 0101",
        "0812 5550 1020",
    ):
        assert shown in text, shown
    assert page.soup.select_one("section.contact a[href='tel:0215550101']") is not None
    assert page.soup.select_one("section.contact a[href='https://wa.me/6281255501020']")
    assert GENERAL not in text
    assert "Demo data" not in text

    # Kota Bekasi has no contact: the general channels, no address
    other = contact_section(look_up(client, kota.members[0].nik, kota.no_kk))
    assert GENERAL in other
    assert "Jl. Uji Coba" not in other


def test_a_not_found_result_names_the_general_channels(
    client: Client, factory: Factory, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    factory.publish("2026Q3", [factory.household()])
    import_contacts(runner, contacts_file(tmp_path, BEKASI))
    nik, kk = factory.unknown_pair()

    text = contact_section(look_up(client, nik, kk))

    assert GENERAL in text
    assert "Jl. Uji Coba" not in text  # nothing about an office the numbers may not belong to


def test_the_demo_contact_is_marked_and_its_numbers_are_not_links(
    app: Flask, client: Client, factory: Factory
) -> None:
    house = factory.household(desil=2)
    factory.publish("2026Q3", [house])
    with app.app_context():
        assert loader.load_demo("32.16") is True
        assert loader.load_demo("32.16") is False  # idempotent

    page = look_up(client, house.members[0].nik, house.no_kk)
    text = contact_section(page)
    assert "Demo data." in text
    assert "it is not a real office" in text
    assert page.soup.select("section.contact a[href^='tel:']") == []
    assert page.soup.select("section.contact a[href^='https://wa.me']") == []


def test_a_real_file_replaces_the_demo_contact(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    with app.app_context():
        loader.load_demo("32.16")
    assert rows(app)[0][-1] is True
    result = import_contacts(runner, contacts_file(tmp_path, BEKASI))
    assert "0 added, 1 updated" in result.output
    assert rows(app)[0][1:3] == ("Dinas Sosial Kabupaten Uji", "Jl. Uji Coba No. 1")
    assert rows(app)[0][-1] is False


def test_the_other_ways_page_finds_a_dinsos_by_kabupaten(
    client: Client, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    import_contacts(runner, contacts_file(tmp_path, BEKASI))
    page = client.page("/cara-lain?lang=en")
    options = [(o["value"], o.get_text(strip=True)) for o in page.soup.select("#kabupaten option")]
    assert options == [("32.16", "Kabupaten Bekasi")]
    assert "Jl. Uji Coba No. 1" not in page

    chosen = client.page("/cara-lain?kabupaten=32.16")
    assert "Jl. Uji Coba No. 1" in chosen
    assert "Jl. Uji Coba No. 1" not in client.page("/cara-lain?kabupaten=32.75")


# --- staff: the admin_dinsos of the kabupaten keeps it current -----------------------------------

FORM = {
    "office_name": "Dinas Sosial Kabupaten Bekasi",
    "address": "Jl. Contoh Kantor No. 5\nCikarang Pusat",
    "hours": "Senin-Kamis 08.00-15.00",
    "phone": "(021) 555-0199",
    "whatsapp": "",
    "email": "",
}


def staff_post(client: Client, url: str, data: dict[str, str], token: bool = True) -> Page:
    form = Page(client.get(url))
    assert form.status == 200, form.status
    csrf = form.soup.find("input", attrs={"name": "csrf_token"})["value"]
    payload = {**({"csrf_token": csrf} if token else {}), **data}
    client.choose_language("en")
    return Page(client.post(url, data=payload)).check()


def test_the_admin_dinsos_edits_the_contact_of_their_own_kabupaten_audited(
    app: Flask, staff: StaffFactory, client: Client
) -> None:
    admin = staff.create("admin_dinsos")
    browser = staff.login(admin)
    home = browser.get("/staf/kontak")
    assert home.status_code == 302
    assert home.headers["Location"].endswith("/staf/kontak/32.16")
    browser.choose_language("en")
    page = Page(browser.get("/staf/kontak/32.16")).check()
    assert "No contact yet" in page

    saved = staff_post(browser, "/staf/kontak/32.16", FORM)

    assert saved.status == 302, saved.error_summary_text()
    assert rows(app) == [
        (
            "32.16",
            "Dinas Sosial Kabupaten Bekasi",
            "Jl. Contoh Kantor No. 5 Cikarang Pusat",
            "(021) 555-0199",
            None,
            None,
            "Senin-Kamis 08.00-15.00",
            False,
        )
    ]
    (event,) = audit(app, "contact_update")
    assert event.staff_id == admin.id
    assert event.role == "admin_dinsos"
    assert event.before is None
    assert event.after["phone"] == "(021) 555-0199"
    shown = Page(browser.get(saved.response.headers["Location"])).check()
    assert "Contact saved. Citizens see it now." in shown
    assert "Jl. Contoh Kantor No. 5 Cikarang Pusat" in shown

    # saving the same values writes nothing
    assert staff_post(browser, "/staf/kontak/32.16", FORM).status == 302
    assert len(audit(app, "contact_update")) == 1
    # a change is audited with the values before and after
    staff_post(browser, "/staf/kontak/32.16", {**FORM, "hours": "Senin-Jumat 08.00-16.00"})
    last = audit(app, "contact_update")[-1]
    assert (last.before["hours"], last.after["hours"]) == (
        "Senin-Kamis 08.00-15.00",
        "Senin-Jumat 08.00-16.00",
    )


def test_a_bad_contact_is_refused_with_a_message_and_nothing_saved(
    app: Flask, staff: StaffFactory
) -> None:
    browser = staff.login(staff.create("admin_dinsos"))
    page = staff_post(
        browser, "/staf/kontak/32.16", {**FORM, "address": "", "phone": "12", "email": "x@"}
    )
    assert page.status == 400
    assert page.error_summary() == [
        "Enter the address of the office.",
        "Write a number to call: digits, spaces and dashes, with 6 to 15 digits (08..., +62...).",
        "Write an e-mail address such as name@example.go.id.",
    ]
    assert rows(app) == []


def test_a_contact_form_without_its_token_changes_nothing(app: Flask, staff: StaffFactory) -> None:
    browser = staff.login(staff.create("admin_dinsos"))
    page = staff_post(browser, "/staf/kontak/32.16", FORM, token=False)
    assert page.status == 400
    assert rows(app) == []
    assert audit(app, "contact_update") == []


def test_another_kabupaten_s_contact_is_not_there_for_an_admin_dinsos(
    app: Flask, staff: StaffFactory
) -> None:
    browser = staff.login(staff.create("admin_dinsos"))  # Kabupaten Bekasi
    assert browser.get("/staf/kontak/32.75").status_code == 404
    token = Page(browser.get("/staf/kontak/32.16")).soup.find("input", attrs={"name": "csrf_token"})
    sent = browser.post("/staf/kontak/32.75", data={"csrf_token": token["value"], **FORM})
    assert sent.status_code == 404
    assert rows(app) == []
    assert audit(app, "contact_update") == []
    refusals = [e.reason for e in audit(app, "refused")]
    assert refusals == ["404 GET /staf/kontak/32.75", "404 POST /staf/kontak/32.75"]


@pytest.mark.parametrize("role", ["verifikator", "operator_desa", "pusat"])
def test_other_roles_may_not_open_or_change_a_contact(
    app: Flask, staff: StaffFactory, role: str
) -> None:
    browser = staff.login(staff.create(role))
    assert browser.get("/staf/kontak").status_code == 403
    assert browser.get("/staf/kontak/32.16").status_code == 403
    sessions = Page(browser.get("/staf/sesi"))
    token = sessions.soup.find("input", attrs={"name": "csrf_token"})["value"]
    assert browser.post("/staf/kontak/32.16", data={"csrf_token": token, **FORM}).status_code == 403
    assert "/staf/kontak" not in sessions.text  # no link to it in the menu
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DinsosContact)) == 0


def test_the_contact_page_needs_a_staff_session(client: Client) -> None:
    response = client.get("/staf/kontak/32.16")
    assert response.status_code == 302
    assert "/staf/masuk" in response.headers["Location"]


def test_the_admin_dinsos_menu_links_the_contact_page(staff: StaffFactory) -> None:
    browser = staff.login(staff.create("admin_dinsos"))
    menu = Page(browser.get("/staf/sesi")).soup.select_one(".site-nav")
    assert menu.find("a", href="/staf/kontak") is not None


def test_the_demo_loads_a_fictional_contact_marked_as_demo_data(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    with app.app_context():  # `flask demo` is a plain click command (see test_import_cli)
        result = runner.invoke(args=["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    ((code, name, address, phone, *_rest, is_demo),) = rows(app)
    assert (code, is_demo) == ("32.16", True)
    assert "CONTOH" in name
    assert "bukan alamat sebenarnya" in address
    assert set(phone) <= {"0", " "}  # no number anyone could own


def test_a_result_page_reads_the_contact_once_per_cache_period_and_a_save_shows_at_once(
    app: Flask,
    client: Client,
    factory: Factory,
    runner: FlaskCliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Per process, for SNAPSHOT_CACHE_SECONDS (docs/lookup.md): a change made by another
    process (here: straight in the database) shows after it; a save in this one at once."""
    from portal.help import queries

    monkeypatch.setitem(app.config, "SNAPSHOT_CACHE_SECONDS", 10.0)
    clock = [1000.0]
    monkeypatch.setattr(queries, "_clock", lambda: clock[0])
    house = factory.household(desil=2)
    factory.publish("2026Q3", [house])
    import_contacts(runner, contacts_file(tmp_path, BEKASI))

    def shown() -> str:
        return contact_section(look_up(client, house.members[0].nik, house.no_kk))

    assert "Jl. Uji Coba No. 1" in shown()
    with app.app_context():  # another worker's change
        db.session.execute(DinsosContact.__table__.update().values(address="Jl. Baru No. 2"))
        db.session.commit()
    clock[0] += 9
    assert "Jl. Uji Coba No. 1" in shown()
    clock[0] += 2
    assert "Jl. Baru No. 2" in shown()

    changed = BEKASI.replace("Jl. Uji Coba No. 1", "Jl. Ketiga No. 3")
    import_contacts(runner, contacts_file(tmp_path, changed, name="k2.csv"))  # this process
    assert "Jl. Ketiga No. 3" in shown()
