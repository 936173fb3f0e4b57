"""Shared by the access-record tests: the household's rows, and a look-up in English."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from portal import db
from portal.dataimport.demo import House
from portal.dataimport.queries import pseudonym
from portal.lookup.models import AccessEvent
from tests.helpers import Client, Page

RECORD = "/hasil/riwayat"


def kk_of(app: Flask, house: House) -> str:
    with app.app_context():
        return pseudonym(house.no_kk, "kk")


def rows(app: Flask, kk_hmac: str | None = None) -> list[AccessEvent]:
    with app.app_context():
        stmt = select(AccessEvent).order_by(AccessEvent.id)
        if kk_hmac is not None:
            stmt = stmt.where(AccessEvent.kk_hmac == kk_hmac)
        found = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return found


def look_up(client: Client, house: House, lang: str = "en", **kwargs: Any) -> Page:
    client.choose_language(lang)
    data = {"nik": house.members[0].nik, "no_kk": house.no_kk}
    return client.post_form("/", data, follow_redirects=True, **kwargs)


def record_page(client: Client, url: str = RECORD) -> Page:
    return Page(client.get(url, follow_redirects=True)).check()
