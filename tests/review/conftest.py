"""Fixtures for the staff queue: cases written straight into the database (any state, place
and due date: how they got there is not the point of these tests), English browsers signed in
through the real login form, and POSTs carrying the session's CSRF token like a browser.

Places: Kabupaten Bekasi (32.16) is the home area of the Dinsos officers; the desa operator
works in Sagara Makmur (32.16.01.2001); Kota Bekasi (32.75) is next door and out of scope.
"""

from __future__ import annotations

import copy
import io
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from portal import db
from portal.appeals import photos as photolib
from portal.appeals import tickets
from portal.appeals.models import Appeal, AppealEvent, AppealPhoto
from portal.appeals.states import DECIDED, AppealStatus
from portal.audit.models import AuditEvent
from portal.auth.models import StaffUser
from portal.review.models import FieldCheck
from tests.fixtures.factories import make_appeal
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import CSRF_INPUT, SIXTEEN_DIGITS, Client, Page

S = AppealStatus
DESA = "32.16.01.2001"  # Sagara Makmur, Kecamatan Tarumajaya, Kabupaten Bekasi
OTHER_DESA = "32.16.01.2002"  # Segarajaya, same kecamatan
BABELAN_DESA = "32.16.02.2001"  # Bunibakti, Kecamatan Babelan, Kabupaten Bekasi
KOTA_BEKASI_DESA = "32.75.01.1001"  # Bekasijaya, Kota Bekasi: another kabupaten/kota
NOTE = "Visited the house and spoke with the head of the RT."


@dataclass(frozen=True)
class Case:
    id: int
    ticket: str
    desa: str

    @property
    def shown(self) -> str:
        """The ticket as pages write it (XXXX-XXXX)."""
        return tickets.display(self.ticket)


@dataclass
class CaseFactory:
    app: Flask

    def make(
        self,
        *,
        desa: str = DESA,
        status: AppealStatus = S.DITERIMA,
        due_in: timedelta = timedelta(days=10),
        reason: str = "INC-MAMPU",
        assigned_to: int | None = None,
        decided_by: int | None = None,
        escalated: bool = False,
        subject_kk_hmac: str | None = None,
        contests: Case | None = None,
        cluster_of: Case | None = None,
        due_at: Any = None,
    ) -> Case:
        """One case as a row, with the history a case in that state would have."""
        with self.app.app_context():
            now = db.utcnow()
            appeal = make_appeal(
                reason_code=reason,
                status=status,
                region=desa,
                filer_nik="3216014101900002",
                subject_is_filer_household=subject_kk_hmac is None,
                subject_kk_hmac=subject_kk_hmac,
                note="Rumahnya besar dan punya mobil baru.",
                period="2026Q3",
                now=now,
                created_at=now - timedelta(days=3),
                due_at=due_at or now + due_in,
                assigned_to_id=assigned_to,
                assigned_at=now if assigned_to else None,
                decided_by_id=decided_by,
                escalated_at=now if escalated else None,
                contests_id=contests.id if contests else None,
                cluster_of_id=cluster_of.id if cluster_of else None,
            )
            path = [S.DITERIMA]
            if status is not S.DITERIMA:
                path.append(S.VERIFIKASI)
            if status not in (S.DITERIMA, S.VERIFIKASI):
                path.append(status)
            if status in DECIDED:
                appeal.decided_at = now - timedelta(days=1)
                appeal.decision_reason = "not_confirmed_in_field"
                appeal.decision_note = "The field visit did not confirm the report."
            db.session.add(appeal)
            db.session.flush()
            for before, after in zip([None, *path], path, strict=False):
                db.session.add(
                    AppealEvent(
                        appeal_id=appeal.id,
                        from_status=before.value if before else None,
                        to_status=after.value,
                        actor="filer" if before is None else "staff",
                        actor_staff_id=None if before is None else (decided_by or assigned_to),
                    )
                )
            db.session.commit()
            return Case(appeal.id, appeal.ticket, desa)

    def photo(self, case: Case) -> int:
        """An evidence photo of CASE, stored like an upload (sanitised, random name)."""
        buf = io.BytesIO()
        Image.new("RGB", (32, 24), (180, 40, 40)).save(buf, "JPEG")
        clean = photolib.sanitise(io.BytesIO(buf.getvalue()))
        with self.app.app_context():
            key = photolib.store(clean, Path(self.app.config["UPLOAD_DIR"]))
            photo = AppealPhoto(
                appeal_id=case.id,
                storage_key=key,
                width=clean.width,
                height=clean.height,
                size_bytes=len(clean.data),
                sha256=clean.sha256,
            )
            db.session.add(photo)
            db.session.commit()
            return photo.id

    def field_check(
        self, case: Case, requested_by: int, *, desa: str | None = None, done_by: int | None = None
    ) -> int:
        with self.app.app_context():
            check = FieldCheck(
                appeal_id=case.id,
                kode_desa=desa or case.desa,
                requested_by_id=requested_by,
                instructions="Check whether the family still lives at the address.",
            )
            if done_by:
                check.done_by_id, check.done_at = done_by, db.utcnow()
                check.outcome, check.finding = "confirmed", "The family lives there, as reported."
            db.session.add(check)
            db.session.commit()
            return check.id

    def get(self, case: Case) -> Appeal:
        with self.app.app_context():
            appeal = db.session.get(Appeal, case.id)
            assert appeal is not None
            return appeal

    def events(self, case: Case) -> list[str]:
        with self.app.app_context():
            stmt = select(AppealEvent.to_status).where(AppealEvent.appeal_id == case.id)
            return list(db.session.scalars(stmt.order_by(AppealEvent.id)))

    def checks(self, case: Case) -> list[FieldCheck]:
        with self.app.app_context():
            stmt = select(FieldCheck).where(FieldCheck.appeal_id == case.id)
            return list(db.session.scalars(stmt.order_by(FieldCheck.id)))


@pytest.fixture
def cases(app: Flask, tmp_path: Path) -> CaseFactory:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return CaseFactory(app)


# --- browsers ---------------------------------------------------------------------------------


def english(client: Client) -> Client:
    return client.choose_language("en")


@pytest.fixture
def sign_in(app: Flask, staff: StaffFactory) -> Callable[[Officer], Client]:
    """sign_in(officer) -> an English browser signed in through /staf/masuk."""

    def _sign_in(officer: Officer) -> Client:
        return staff.login(officer, english(app.test_client()))  # type: ignore[arg-type]

    return _sign_in


def checked(page: Page) -> Page:
    """Page.check() without its NIK rule: staff in scope see full NIK and No. KK by design."""
    masked = copy.copy(page)
    masked.text = SIXTEEN_DIGITS.sub("…", page.text)
    masked.check()
    return page


def get(client: Client, url: str) -> Page:
    page = Page(client.get(url))
    return checked(page) if "html" in page.response.content_type else page


def csrf(client: Client) -> str:
    """A CSRF token of this browser's session, from a page that records nothing."""
    response = client.get("/staf/sesi")
    assert response.status_code == 200, f"not signed in: {response.status_code}"
    token = CSRF_INPUT.search(response.get_data(as_text=True))
    assert token is not None
    return token["value"]


def post(client: Client, url: str, data: dict[str, Any] | None = None) -> Page:
    """POST like a browser: with the session's CSRF token."""
    page = Page(client.post(url, data={"csrf_token": csrf(client), **(data or {})}))
    return checked(page) if "html" in page.response.content_type else page


def location(page: Page) -> str:
    return urlsplit(page.response.headers.get("Location", "")).path


def follow(client: Client, page: Page) -> Page:
    """The page a redirect leads to (where its flashed message is shown)."""
    assert page.status == 302, f"expected a redirect, got {page.status}"
    return get(client, page.response.headers["Location"])


def notices(page: Page, kind: str = "") -> list[str]:
    return page.texts(f".notice{'--' + kind if kind else ''}")


def errors(page: Page) -> list[str]:
    """Every message of the error summary (field messages and form-wide ones)."""
    return page.texts(".error-summary__list li")


def audit(app: Flask, action: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return list(db.session.scalars(stmt))


def count(app: Flask, model: type, *where: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# a rejection on the documents: a reason naming a field result needs a field check with one
DECISION = {"decision": "ditolak", "reason": "documents_insufficient", "note": NOTE}


# --- concurrency ------------------------------------------------------------------------------

postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL (row locks, SKIP LOCKED): set TEST_DATABASE_URL",
)


def load(officer: Officer, case: Case) -> tuple[StaffUser, Appeal]:
    user, appeal = db.session.get(StaffUser, officer.id), db.session.get(Appeal, case.id)
    assert user is not None
    assert appeal is not None
    return user, appeal


Job = Callable[[threading.Barrier], Any]


def race(app: Flask, jobs: list[Job]) -> list[Any]:
    """Run JOBS in threads, each with its own app context (own session and connection),
    released together by a barrier. Returns each job's result or exception."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Job) -> None:
        with app.app_context():
            try:
                results[i] = job(barrier)
            except Exception as exc:  # reported to the test
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a racing request hangs"
    return results
