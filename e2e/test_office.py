"""The Dinsos admin's export, with its preview and undo window, on a 360 px phone with
JavaScript off, in Bahasa Indonesia: two approved cases wait; the admin previews the export
(counts by reason and decision), makes it, cancels it within the window (the cases wait
again and nothing can be downloaded), makes it again, and downloads the file once the window
(EXPORT_UNDO_MINUTES, 15 s in e2e/stack.py) is over and the export is final.

The two approved cases are written by the deployed release's own code (how a case gets
approved is e2e/test_staff.py's journey)."""

from __future__ import annotations

import csv
import io
import subprocess
import time
from pathlib import Path
from typing import Any

from e2e.conftest import Phone
from e2e.journeys import Officer, enrol
from e2e.stack import STAFF, Stack

WINDOW_SECONDS = 15  # EXPORT_UNDO_MINUTES = 0.25 in e2e/stack.py
SEED = """
import secrets
from portal import create_app, db
from portal.appeals import service, tickets
from portal.appeals.build import new_appeal
from portal.appeals.states import AppealStatus as S

app = create_app()
with app.app_context():
    for _ in range(2):
        case = new_appeal(
            ticket=tickets.new_ticket(), reason_code="INC-MAMPU", region="32.16.01.2001",
            filer_nik="3216014101800001", filer_nik_hmac=secrets.token_hex(16),
            filer_kk_hmac=secrets.token_hex(16), filer_verified=True,
            subject_is_filer_household=False, subject_found=False,
            subject_kk_hmac=secrets.token_hex(16), period="2026Q3",
            draft_token=secrets.token_urlsafe(16),
        )
        db.session.add(case)
        db.session.flush()
        service.transition(case, S.VERIFIKASI, actor="staff")
        service.transition(case, S.DISETUJUI, actor="staff", decision_reason="documents_confirm",
                           note="Dokumen yang dilampirkan membenarkan laporan ini.")
        print(tickets.display(case.ticket))
    db.session.commit()
"""


def seed_approved_cases(stack: Stack) -> list[str]:
    """Two approved cases in Kabupaten Bekasi, made by the release; their tickets."""
    result = subprocess.run(
        [str(Path(stack.venv) / "bin" / "python"), "-c", SEED],
        env=stack.env,
        cwd=Path(stack.venv).parent,
        check=True,
        text=True,
        capture_output=True,
    )
    return result.stdout.split()


def wait_until_final(phone: Phone, export_id: str, seconds: int = WINDOW_SECONDS + 30) -> None:
    """Look at the exports page again (as its refresh does) until the export is final."""
    link = phone.page.get_by_role("link", name=f"Unduh CSV ekspor {export_id}", exact=True)
    deadline = time.monotonic() + seconds
    while link.count() == 0:
        assert time.monotonic() < deadline, f"export {export_id} never became final"
        time.sleep(3)
        phone.visit("/staf/ekspor", "exports-again")


def test_an_admin_previews_cancels_and_remakes_an_export_then_downloads_it_when_final(
    phone_factory: Any, stack: Stack
) -> None:
    from e2e.test_staff import PASSWORDS, enrolment_path

    tickets = seed_approved_cases(stack)
    assert len(tickets) == 2
    email, name, role, _region = next(s for s in STAFF if s[2] == "admin_dinsos")
    admin = Officer(phone_factory("office-admin"), email, name, role, PASSWORDS[role])
    enrol(admin, enrolment_path(stack, admin))
    a = admin.phone

    # the preview: what the export would take, before anything is made
    a.follow("Ekspor", "exports", exact=True)
    a.follow("Pratinjau ekspor", "preview", exact=True)
    assert a.h1() == "Pratinjau ekspor"
    total = a.page.locator(".preview-total").inner_text()
    waiting = int(total.split(" ", 1)[0])
    assert waiting >= 2, total
    assert "laporan yang disetujui akan diekspor" in total
    assert "INC-MAMPU" in a.main_text()  # by reason of the case
    assert "Terbukti dari dokumen" in a.main_text()  # by reason of the decision
    a.submit("Ekspor laporan ini", "held", exact=True)
    made = a.notices()
    assert "Ekspor ini final pada" in made, made
    export_id = made.split("Ekspor ", 1)[1].split(" ", 1)[0]
    assert "Belum final" in a.main_text()
    assert a.page.get_by_role("link", name=f"Unduh CSV ekspor {export_id}").count() == 0

    # cancelled within the window: the cases wait again
    a.submit(f"Batalkan ekspor {export_id}", "cancelled", exact=True)
    assert f"Ekspor {export_id} dibatalkan" in a.notices()
    assert "Dibatalkan" in a.main_text()
    assert f"{waiting} laporan yang disetujui sedang menunggu" in a.main_text()

    # made again, and final once the window is over
    a.follow("Pratinjau ekspor", "preview-again", exact=True)
    a.submit("Ekspor laporan ini", "held-again", exact=True)
    again = a.notices().split("Ekspor ", 1)[1].split(" ", 1)[0]
    assert again != export_id
    wait_until_final(a, again)
    with a.page.expect_download() as download:
        a.page.get_by_role("link", name=f"Unduh CSV ekspor {again}", exact=True).click()
    assert download.value.suggested_filename == f"dtsen-ekspor-32.16-{again}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert {r["ticket"] for r in rows} >= set(tickets)
    assert all(r["export_id"] == again for r in rows)
    # the cancelled export never has a file
    cancelled = a.page.request.get(f"{stack.url}/staf/ekspor/{export_id}.csv")
    assert cancelled.status == 404
