"""The queue can be narrowed to one desa (the issue's 'kecamatan/desa' filter)."""

from flask import Flask

from portal import db
from tests.fixtures.factories import make_appeal
from tests.helpers import Client


def _case(app: Flask, ticket: str, desa: str) -> None:
    with app.app_context():
        now = db.utcnow()
        db.session.add(
            make_appeal(
                ticket=ticket,
                region=desa,
                filer_nik="3216010101900001",
                filer_nik_hmac="f" * 32,
                filer_kk_hmac="k" * 32,
                subject_found=False,
                now=now,
                due_at=now,
                draft_token=ticket,
            )
        )
        db.session.commit()


def test_queue_filtered_on_a_desa_lists_only_its_cases(app: Flask, staff) -> None:
    _case(app, "AAAA2222", "32.16.01.2001")
    _case(app, "BBBB3333", "32.16.02.2001")
    client: Client = staff.login(staff.create("verifikator"))

    page = client.page("/staf/?desa=32.16.01.2001")

    listed = page.texts("table.table--queue tbody td:first-child a")
    assert listed == ["AAAA-2222"]
    field = page.soup.find("input", attrs={"name": "desa", "list": "desa-list"})
    assert field
    options = [o["value"] for o in page.soup.select("datalist#desa-list option")]
    assert "Sagara Makmur, Tarumajaya, Kabupaten Bekasi" in options
    assert len(options) > 100  # every desa of Kabupaten Bekasi, none of elsewhere
    assert all(o.endswith("Kabupaten Bekasi") for o in options)
