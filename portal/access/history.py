"""The household's access record as the household sees it ("Riwayat pengecekan").

The last 12 months of its ``access_events``, newest first, one line per day (WIB), purpose
and kind of reader: "3 times" rather than three lines, so a household looked up thousands of
times still gets a short page. Paged by day, and capped in SQL twice: the scan reads at most
SCAN_ROWS events (backwards along the index on (kk_hmac, at)), the grouping returns at most
PAGE_LINES lines. A day cut by either cap is left for the next page, so counts are whole.

Who read is said as a kind (the household itself, Dinsos of a kabupaten/kota by role, the
operator of a desa, the export to Pusdatin), never as a person; no address, no IP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Date, cast, func, literal_column, select

from portal import db
from portal.access import Purpose
from portal.auth.models import Role
from portal.lookup.models import AccessEvent, Actor
from portal.wilayah import queries as wilayah

JAKARTA = ZoneInfo("Asia/Jakarta")  # WIB: UTC+7 all year
WINDOW = timedelta(days=365)  # "the last 12 months"
SCAN_ROWS = 2000  # events read for one page at most
PAGE_LINES = 50  # lines shown on one page at most


@dataclass(frozen=True)
class Line:
    """Reads of one day by one kind of reader for one purpose."""

    day: date  # in WIB
    first: datetime
    last: datetime
    count: int
    purpose: str  # a Purpose value, or "staff" for rows older than the purpose column
    role: str | None
    office: str | None


@dataclass(frozen=True)
class RecordPage:
    lines: list[Line]
    since: date  # the first day of the 12 months shown
    older: date | None  # the day the next (older) page starts from, inclusive


def wib_day(moment: datetime) -> date:
    return moment.astimezone(JAKARTA).date()


def _start_of(day: date) -> datetime:
    """The UTC moment a WIB day starts."""
    return datetime.combine(day, time(0), JAKARTA).astimezone(UTC)


def _day_expression(column: Any) -> Any:
    # constants, not bound parameters: the SELECT and the GROUP BY must be the same text
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(literal_column("'Asia/Jakarta'"), column), Date)
    return func.date(column, literal_column("'+7 hours'"))  # SQLite keeps naive UTC text


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def purpose_of(purpose: str | None, actor: str, role: str | None) -> str:
    """The purpose of a row; rows written before the purpose was kept say it by actor."""
    if purpose:
        return purpose
    if actor == Actor.CITIZEN:
        return Purpose.LOOKUP.value
    if actor == Actor.EXPORT:
        return Purpose.EXPORT.value
    if role == Role.OPERATOR_DESA:
        return Purpose.FIELD_CHECK.value
    return "staff"


def page_query(kk_hmac: str, since_at: datetime, until: date | None = None) -> Any:
    """One page's lines: the newest SCAN_ROWS events of KK_HMAC from SINCE_AT (up to the end
    of the WIB day UNTIL), grouped by day, purpose and reader, newest first, PAGE_LINES + 1
    lines at most (one more tells that the page is cut)."""
    e = AccessEvent
    conditions = [e.kk_hmac == kk_hmac, e.at >= since_at]
    if until is not None:
        conditions.append(e.at < _start_of(until + timedelta(days=1)))
    scanned = (
        select(e.at, e.purpose, e.actor, e.actor_role, e.actor_office)
        .where(*conditions)
        .order_by(e.at.desc())
        .limit(SCAN_ROWS)
        .subquery()
    )
    day = _day_expression(scanned.c.at).label("day")
    last = func.max(scanned.c.at)
    keys = (scanned.c.purpose, scanned.c.actor, scanned.c.actor_role, scanned.c.actor_office)
    return (
        select(day, *keys, func.count().label("n"), func.min(scanned.c.at), last)
        .group_by(day, *keys)
        .order_by(day.desc(), last.desc())
        .limit(PAGE_LINES + 1)
    )


def household_record(
    kk_hmac: str, *, until: date | None = None, now: datetime | None = None
) -> RecordPage:
    """The access record of the household KK_HMAC: the newest page, or the page that starts
    on the WIB day UNTIL (inclusive) and goes back."""
    moment = now or db.utcnow()
    since_at = moment - WINDOW
    since = wib_day(since_at)
    if until is not None:
        if until < since:  # before the 12 months: nothing (and no date arithmetic at year 1)
            return RecordPage([], since, None)
        until = min(until, wib_day(moment))  # a day to come: from today
    rows = db.session.execute(page_query(kk_hmac, since_at, until)).all()
    lines = [
        Line(
            _as_date(row[0]),
            _aware(row[6]),
            _aware(row[7]),
            int(row[5]),
            purpose_of(row[1], row[2], row[3]),
            row[3],
            row[4],
        )
        for row in rows
    ]
    cut = len(lines) > PAGE_LINES or sum(line.count for line in lines) >= SCAN_ROWS
    older: date | None = None
    if cut:
        lines = lines[:PAGE_LINES]
        oldest = lines[-1].day
        whole = [line for line in lines if line.day != oldest]
        if whole:  # the oldest day may be cut: it starts the next page, whole
            lines, older = whole, oldest
        else:  # one day beyond both caps: shown as far as read, the next page goes on before
            older = oldest - timedelta(days=1)
        if older < since:
            older = None
    return RecordPage(lines, since, older)


def _aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- what the household is told ---------------------------------------------------------------


def who(line: Line, names: dict[str, str]) -> str:
    """The kind of reader, never a person: NAMES are the region names of the offices."""
    purpose = line.purpose
    if purpose in (Purpose.LOOKUP, Purpose.FILING):
        return str(_("You or your family (this website)"))
    if purpose == Purpose.EXPORT:
        return str(_("Export to Pusdatin Kemensos"))
    area = names.get(line.office or "")
    if line.role == Role.OPERATOR_DESA:
        if purpose == Purpose.FIELD_CHECK and area and len(line.office or "") > 8:
            return str(_("Desa operator of %(desa)s — field verval", desa=area))
        return str(_("Desa operator — field verval"))
    if line.role == Role.PUSAT or not line.office:
        return str(_("Kemensos (central office)"))
    area = area or _("a kabupaten/kota")
    if line.role == Role.ADMIN_DINSOS:
        return str(_("Dinsos %(area)s — administrator", area=area))
    return str(_("Dinsos %(area)s — verifier", area=area))


def why(line: Line) -> str:
    purpose = line.purpose
    if purpose == Purpose.LOOKUP:
        return str(_("Checked the family's DTSEN status with a NIK and the No. KK of its card"))
    if purpose == Purpose.FILING:
        return str(_("Proved a NIK and the No. KK of its card to file a sanggahan or usulan"))
    if purpose == Purpose.CASE:
        return str(_("Opened a sanggahan or usulan about your family to handle it"))
    if purpose == Purpose.FIELD_CHECK:
        return str(_("Opened the field check of a case about your family"))
    if purpose == Purpose.SEARCH:
        return str(_("Searched by name or number: your family, or a case about it, was a result"))
    if purpose == Purpose.QUEUE:
        return str(
            _("Listed a case about your family, with the name of its head, in the case queue")
        )
    if purpose == Purpose.EXPORT:
        return str(_("An approved case about your family was sent for the next DTSEN update"))
    if purpose == Purpose.DOWNLOAD:
        return str(_("Downloaded the export to Pusdatin that holds a case about your family"))
    return str(_("Opened your family's data"))


def office_names(lines: list[Line]) -> dict[str, str]:
    return wilayah.names({line.office for line in lines if line.office})
