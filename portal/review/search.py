"""Finding cases: by ticket, NIK, No. KK or name (issue 14), and the queue's desa typed by name.

Every search runs over ``permissions.scoped`` cases, so a verifikator of Kabupaten Bekasi never
finds a case of Kabupaten Bogor and a desa operator only the cases of their desa. A NIK or
No. KK is looked for by its keyed HMAC (never stored, logged or audited as typed). Only the
deciders of the area (verifikator, admin_dinsos), who may see who filed a case, find a case by
its filer's NIK: a desa operator or pusat finds a case by the number of the household it is
about, never by the filer's (reporter protection: searching a neighbour's NIK must not tell who
reported). A name is looked for in the name the filer gave and in the names of the subject
household's members in the current snapshot (only a household DTSEN puts in the officer's
scope, as on the case page).

Each search is audited (the kind of query and how many cases were found; a name's words, a
ticket, never a number) and each household whose DTSEN data a result shows gets an entry in
its access log (purpose ``search``). The queue's listing is recorded the same way (purpose
``queue``). Both commit: views never do. Searches are rate-limited per officer
(STAFF_SEARCH_LIMIT, in the view).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, or_, select

from portal import access, db
from portal.appeals import tickets
from portal.appeals.models import Appeal
from portal.audit.service import record
from portal.auth.models import Role, StaffUser
from portal.dataimport import queries as snapshots
from portal.dataimport.models import Household, Person
from portal.review import permissions, queries
from portal.review.matching import name_terms
from portal.review.service import ReviewError

MAX_RESULTS = 50
SEPARATORS = re.compile(r"[\s.\-/]+")


class Kind(StrEnum):
    TICKET = "ticket"
    NUMBER = "number"  # a NIK or a No. KK: both are 16 digits
    NAME = "name"


class NothingToSearch(ReviewError):
    """Neither a ticket, nor 16 digits, nor a word of a name (titles, signs only)."""


class BadNumber(ReviewError):
    """Digits, but not 16 of them: not a NIK or No. KK."""


@dataclass
class Found:
    kind: Kind
    rows: list[queries.QueueRow]
    more: bool  # there were more than MAX_RESULTS: the officer should narrow the search


@dataclass(frozen=True)
class Query:
    kind: Kind
    value: str = ""  # the ticket or the 16 digits
    terms: tuple[str, ...] = ()  # the words of a name


def classify(raw: str) -> Query:
    """What the officer typed: a ticket, a 16-digit number or the words of a name."""
    text = (raw or "").strip()
    compact = SEPARATORS.sub("", text)
    if compact.isascii() and compact.isdigit():
        if len(compact) != 16:
            raise BadNumber
        return Query(Kind.NUMBER, compact)
    try:
        return Query(Kind.TICKET, tickets.normalise(text))
    except ValueError:
        pass
    terms = name_terms(text)
    if not terms:
        raise NothingToSearch
    return Query(Kind.NAME, terms=tuple(terms))


def find(user: StaffUser, raw: str, remote_addr: str | None) -> Found:
    """The cases in USER's scope that RAW names (a ticket, NIK, No. KK or name), the earliest
    due first, at most MAX_RESULTS. Audited and access-recorded, then committed. Raises
    NothingToSearch or BadNumber (nothing is searched, audited or recorded then)."""
    query = classify(raw)
    stmt = permissions.scoped(select(Appeal), user)
    audit: dict[str, object] = {"kind": query.kind.value}
    if query.kind is Kind.TICKET:
        stmt = stmt.where(Appeal.ticket == query.value)
        audit["ticket"] = query.value
    elif query.kind is Kind.NUMBER:
        stmt = stmt.where(_number_condition(user, query.value))
    else:
        stmt = stmt.where(_name_condition(user, query.terms))
        audit["name"] = " ".join(query.terms)
    cases = list(db.session.scalars(stmt.order_by(Appeal.due_at, Appeal.id).limit(MAX_RESULTS + 1)))
    more = len(cases) > MAX_RESULTS
    shown = queries.rows_for(user, cases[:MAX_RESULTS])
    audit["found"] = len(shown.rows)
    record("case_search", staff=user, target_type="appeal", after=audit)
    access.record(
        access.Purpose.SEARCH,
        shown.households,
        reader=access.Reader.staff(user, remote_addr),
        period=shown.period,
    )
    db.session.commit()
    return Found(query.kind, shown.rows, more)


def _number_condition(user: StaffUser, number: str) -> ColumnElement[bool]:
    """A NIK or No. KK of the household a case is about (any officer in scope), or the NIK of
    its filer (only a decider, who may see the filer). Each by its indexed HMAC column."""
    nik = snapshots.pseudonym(number, "nik")
    kk = snapshots.pseudonym(number, "kk")
    conditions = [Appeal.subject_nik_hmac == nik, Appeal.subject_kk_hmac == kk]
    if user.role_enum in permissions.DECIDERS:
        conditions.append(Appeal.filer_nik_hmac == nik)
    return or_(*conditions)


def _name_condition(user: StaffUser, terms: tuple[str, ...]) -> ColumnElement[bool]:
    """Every word in the name the filer gave, or in the name of one member of the case's
    household in the current snapshot, where that household lives in USER's scope."""
    given = and_(*[Appeal.subject_name.ilike(f"%{term}%") for term in terms])
    snapshot = snapshots.current_snapshot()
    if snapshot is None:
        return given
    member = exists().where(
        Person.snapshot_id == snapshot.id,
        Person.kk_hmac == Appeal.subject_kk_hmac,
        *[Person.nama.ilike(f"%{term}%") for term in terms],
    )
    household = exists().where(
        Household.snapshot_id == snapshot.id,
        Household.kk_hmac == Appeal.subject_kk_hmac,
        _household_in_scope(user),
    )
    return or_(given, and_(Appeal.subject_kk_hmac.is_not(None), member, household))


def _household_in_scope(user: StaffUser) -> ColumnElement[bool]:
    """``permissions.desa_in_scope`` over the households table, in SQL."""
    role = user.role_enum
    if role is Role.PUSAT:
        return Household.kode_desa.is_not(None)
    if role is Role.OPERATOR_DESA:
        return Household.kode_desa.in_(user.desa_codes)
    if not user.office_code:
        return Household.kode_desa.is_(None)  # no office: nothing
    return Household.kode_desa.startswith(user.office_code + ".", autoescape=True)


def record_listing(user: StaffUser, rows: queries.Rows, remote_addr: str | None) -> None:
    """The queue showed the names of these households' heads: their access logs say so."""
    if not rows.households:
        return
    access.record(
        access.Purpose.QUEUE,
        rows.households,
        reader=access.Reader.staff(user, remote_addr),
        period=rows.period,
    )
    db.session.commit()


def resolve_desa(typed: str, options: list[tuple[str, str]]) -> list[str]:
    """The desa codes among OPTIONS ((code, "Desa, Kecamatan, Kabupaten")) that TYPED names:
    the code itself, the whole label or the desa's name (exactly, any case), else every desa
    whose label contains it. The caller wants exactly one."""
    text = " ".join((typed or "").split()).casefold()
    if not text:
        return []
    exact = [
        code
        for code, label in options
        if text in (code.casefold(), label.casefold(), label.split(",")[0].strip().casefold())
    ]
    if exact:
        return exact
    return [code for code, label in options if text in label.casefold()]
