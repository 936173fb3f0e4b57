"""Fixtures for the case journey: a published snapshot to file against, complete answers for
every reason code, a helper that walks the question pages like a phone browser without
JavaScript (GET the page, read its csrf_token, POST, follow the Location), a staff decision
helper and photo builders.

Pages are read in English (chosen with ?lang=en, kept in the session) so assertions can quote
the messages.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from flask import Flask
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import db
from portal.appeals import service, tickets
from portal.appeals.models import Appeal
from portal.appeals.reasons import REASONS, Kind, Subject
from portal.appeals.states import AppealStatus
from portal.dataimport.demo import House
from tests.fixtures.factories import DESA, Factory
from tests.fixtures.worlds import KeptWorld
from tests.helpers import Client, Page

JAKARTA = ZoneInfo("Asia/Jakarta")
NOTE = "Rumahnya besar dan punya mobil baru sejak tahun lalu."
INTERNAL_NOTE = "Internal: the RT head is the filer's cousin."
DECISION_NOTE = "The field visit found the household as described in DTSEN."

# --- clients in English ---------------------------------------------------------------------


@pytest.fixture
def client(client: Client) -> Client:
    return client.choose_language("en")


@pytest.fixture
def limited_client(limited_client: Client) -> Client:
    return limited_client.choose_language("en")


# --- data to file against -------------------------------------------------------------------


@dataclass
class World:
    filer: House  # the filer's own household, in DTSEN (desil 2, PKH, 3 people)
    other: House  # another household, reported in a sanggahan about someone else
    third: House  # a household nobody files about
    stranger: tuple[str, str]  # a valid NIK + No. KK found in no snapshot

    @property
    def filer_nik(self) -> str:
        return self.filer.members[0].nik


def publish_world(factory: Factory) -> World:
    filer = factory.household(desil=2, programs=("PKH",), size=3)
    other = factory.household(desil=8, programs=("PKH", "BPNT"), size=2)
    third = factory.household(desil=4, programs=(), size=2)
    factory.publish("2026Q3", [filer, other, third])
    return World(filer, other, third, factory.unknown_pair())


@pytest.fixture
def world(kept_world: KeptWorld) -> World:
    return kept_world(publish_world)


@pytest.fixture
def limited_world(limited_factory: Factory) -> World:
    return publish_world(limited_factory)


CONDITIONS_ANSWER = {
    "work": "casual",
    "income": "lt1",
    "floor": "earth",
    "walls": "bamboo",
    "water": "unprotected",
    "electricity": "450",
    "sanitation": "shared",
}


def answers_for(
    world: World, code: str, *, filer: House | None = None, about: House | None = None
) -> dict[str, dict[str, Any]]:
    """Complete answers for one reason code, keyed by question page (slug)."""
    reason = REASONS[code]
    filer = filer or world.filer
    about = about or world.other
    answers: dict[str, dict[str, Any]] = {
        "alasan": {"reason": code},
        "pelapor": {"nik": filer.members[0].nik, "no_kk": filer.no_kk},
        "kontak": {"phone": "0812 3456 7890", "email": ""},
    }
    if reason.kind is Kind.SANGGAHAN:
        if reason.subject is Subject.EITHER:
            answers["subjek"] = {
                "whose": "other",
                "subject_name": "Pak Budi",  # as a neighbour knows them, not as in DTSEN
                "subject_alamat": "KP. SAGARA, dekat masjid",
                "subject_rt": "2",
                "subject_rw": "5",
                "desa": about.kode_desa,
                "subject_nik": about.members[0].nik,
            }
        answers["rincian"] = {"evidence": [reason.evidence[0][0]], "note": NOTE}
        return answers
    if code == "EXC-TIDAK-TERDATA":
        nik, kk = world.stranger
        answers["pelapor"] = {"nik": nik, "no_kk": kk}
        answers["rumah-tangga"] = {"no_kk": kk, "head_nik": nik, "alamat": "KP. BARU RT 1/RW 2"}
    else:
        answers["rumah-tangga"] = {
            "no_kk": filer.no_kk,
            "head_nik": filer.members[0].nik,
            "alamat": filer.alamat,
        }
    answers["desa"] = {"desa": DESA}
    if code == "USUL-AHLI-WARIS":
        answers["ahli-waris"] = {
            "deceased_nik": filer.members[0].nik,
            "heir_nik": filer.members[1].nik,
        }
    else:
        answers["program"] = {"programs": ["PKH"]}
        answers["kondisi"] = dict(CONDITIONS_ANSWER)
    return answers


# --- walking the pages ----------------------------------------------------------------------


def path_of(page: Page) -> str:
    return urlsplit(page.response.headers.get("Location", "")).path


def walk(
    client: Client, kind: str, answers: dict[str, dict[str, Any]], *, stop_at: str | None = None
) -> str:
    """Answer every question page from alasan on; returns the path of the check page (or of
    STOP_AT, unanswered). Each answer must be accepted (302)."""
    path = f"/{kind}/alasan"
    for __ in range(15):
        slug = path.rsplit("/", 1)[-1]
        if slug == "periksa" or slug == stop_at:
            return path
        data = {"action": "continue"} if slug == "foto" else answers.get(slug, {})
        page = post_on(client, client.page(path), data)
        assert page.status == 302, f"{path}: {page.status} {page.error_summary()}"
        path = path_of(page)
    raise AssertionError("the journey does not end")


def post_on(client: Client, page: Page, data: dict[str, Any]) -> Page:
    """Submit the POST form of PAGE (as shown, with its csrf_token) to its action."""
    forms = page.tree.xpath("//form[@method='post']")
    assert forms, "no POST form on the page"
    form = forms[0]
    assert form.xpath(".//button[@type='submit']"), "a form that needs script to send"
    token = form.xpath(".//input[@name='csrf_token']/@value")[0]
    response = Page(client.post(form.get("action"), data={"csrf_token": token, **data}))
    return response.check() if "html" in response.response.content_type else response


def submit(client: Client, kind: str, **extra: Any) -> Page:
    return client.post_form(f"/{kind}/periksa", {"declaration": "y", **extra})


def receipt_ticket(client: Client) -> str:
    page = client.page("/tanda-terima")
    return page.texts(".ticket")[0]


@pytest.fixture
def file_case() -> Callable[..., str]:
    """file_case(client, kind, answers) -> the ticket as shown on the receipt (XXXX-XXXX)."""

    def _file(client: Client, kind: str, answers: dict[str, dict[str, Any]]) -> str:
        walk(client, kind, answers)
        page = submit(client, kind)
        assert page.status == 302, f"submit: {page.status} {page.error_summary()}"
        assert path_of(page) == "/tanda-terima"
        return receipt_ticket(client)

    return _file


# --- reading and moving cases ---------------------------------------------------------------


def load_case(app: Flask, ticket: str) -> Appeal:
    with app.app_context():
        appeal = db.session.scalar(
            select(Appeal)
            .where(Appeal.ticket == tickets.normalise(ticket))
            .options(selectinload(Appeal.events), selectinload(Appeal.photos))
        )
        assert appeal is not None, f"no case {ticket}"
        return appeal


def decide(
    app: Flask,
    ticket: str,
    status: AppealStatus | str,
    reason: str = "not_confirmed_in_field",
    note: str = DECISION_NOTE,
    internal_note: str | None = INTERNAL_NOTE,
) -> None:
    """Staff take the case into review (with an internal note) and decide it."""
    with app.app_context():
        appeal = db.session.scalar(select(Appeal).where(Appeal.ticket == tickets.normalise(ticket)))
        assert appeal is not None
        service.transition(appeal, AppealStatus.VERIFIKASI, actor="staff", note=internal_note)
        service.transition(
            appeal, AppealStatus(status), actor="staff", note=note, decision_reason=reason
        )
        db.session.commit()


def due_text(days: int = 14) -> str:
    """Today (in Jakarta) + DAYS as the pages write a long date in English."""
    due = datetime.now(JAKARTA).date() + timedelta(days=days)
    return format_date(due, "long", locale="en")


def track(client: Client, ticket: str, nik: str, **kwargs: Any) -> Page:
    return client.post_form("/lacak", {"ticket": ticket, "nik": nik}, **kwargs)


# --- photos ---------------------------------------------------------------------------------

GPS_IFD = 0x8825


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "S"
    gps[2] = (6.0, 12.0, 0.0)
    gps[3] = "E"
    gps[4] = (106.0, 49.0, 0.0)
    return exif


def jpeg_with_gps(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", exif=gps_exif())
    return buf.getvalue()


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 40)).save(buf, "PNG")
    return buf.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
