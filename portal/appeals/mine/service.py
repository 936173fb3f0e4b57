"""Find my cases: prove NIK + No. KK once, then list and open the cases filed with that NIK.

Which cases a proof opens:
- NIK + No. KK in DTSEN (the current period or the one before, as at the look-up): every
  case filed with that NIK and verified against DTSEN, and any filed with this very pair;
- not in DTSEN: only the cases filed with this very pair (an usulan for a household missing
  from DTSEN is filed unverified). Anyone may file unverified "as" any NIK, so such a case
  never opens the NIK's other cases, and a stranger's unverified filing "as" someone is not
  shown to them.

A "no" (no case, and the pair not in DTSEN) runs the same two queries whichever number is
wrong and shows the same page; the view charges it as a miss, as the look-up does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, ColumnElement, and_, bindparam, delete, or_, select

from portal import db, expiry, policy
from portal.appeals.models import Appeal, CaseListGrant
from portal.core.tokens import new_token, token_hash
from portal.dataimport import queries as snapshots

GRANT_LIFETIME = timedelta(minutes=30)  # as a tracking grant


@dataclass(frozen=True)
class CaseRow:
    """A case as the list shows it: never the subject, the note or the filer's numbers."""

    ticket: str
    kind: str
    reason_code: str
    status: str
    created_at: datetime


_COLUMNS = (Appeal.ticket, Appeal.kind, Appeal.reason_code, Appeal.status, Appeal.created_at)


def _filed_with(nik_hmac: str, kk_hmac: str, in_dtsen: bool) -> ColumnElement[bool]:
    """The cases this proof opens (see the module docstring). One statement whatever the
    answer: IN_DTSEN is a bound value, so a "no" and a "yes" run the same SQL."""
    proven = bindparam("in_dtsen", in_dtsen, type_=Boolean)
    return and_(
        Appeal.filer_nik_hmac == nik_hmac,  # indexed
        or_(Appeal.filer_kk_hmac == kk_hmac, and_(proven, Appeal.filer_verified.is_(True))),
    )


def _cases(nik_hmac: str, kk_hmac: str, in_dtsen: bool) -> list[CaseRow]:
    stmt = (
        select(*_COLUMNS)
        .where(_filed_with(nik_hmac, kk_hmac, in_dtsen))
        .order_by(Appeal.created_at.desc(), Appeal.id.desc())
    )
    return [CaseRow(*row) for row in db.session.connection().execute(stmt).all()]


def prove(nik: str, no_kk: str) -> str | None:
    """NIK + No. KK open a list of cases: a token for the session (valid GRANT_LIFETIME),
    or None for a "no". Both numbers must be validated and admitted by the policy."""
    policy.require_admission()
    nik_hmac, kk_hmac = snapshots.pseudonym(nik, "nik"), snapshots.pseudonym(no_kk, "kk")
    ids = [s.id for s in snapshots.published_snapshots(2)]
    in_dtsen = bool(snapshots.matching_snapshots(nik_hmac, kk_hmac, ids))
    if not _cases(nik_hmac, kk_hmac, in_dtsen) and not in_dtsen:
        return None
    now = db.utcnow()
    expiry.sweep(CaseListGrant, now)
    token = new_token()
    db.session.add(
        CaseListGrant(
            token_hash=token_hash(token),
            filer_nik_hmac=nik_hmac,
            filer_kk_hmac=kk_hmac,
            in_dtsen=in_dtsen,
            expires_at=now + GRANT_LIFETIME,
        )
    )
    db.session.commit()
    return token


def _grant(token: str | None) -> CaseListGrant | None:
    if not token:
        return None
    grant = db.session.get(CaseListGrant, token_hash(token))
    if grant is None or grant.expires_at < db.utcnow():
        return None
    return grant


def listed(token: str | None) -> list[CaseRow] | None:
    """The cases a token opens, newest first (read now: statuses are current); None when the
    token is unknown, revoked or expired."""
    grant = _grant(token)
    if grant is None:
        return None
    return _cases(grant.filer_nik_hmac, grant.filer_kk_hmac, grant.in_dtsen)


def case_in_list(token: str | None, ticket: str) -> Appeal | None:
    """The case with TICKET if the token's list has it; None otherwise."""
    grant = _grant(token)
    if grant is None:
        return None
    return db.session.scalar(
        select(Appeal).where(
            Appeal.ticket == ticket,
            _filed_with(grant.filer_nik_hmac, grant.filer_kk_hmac, grant.in_dtsen),
        )
    )


def revoke(token: str | None) -> None:
    """ "Done": the list closes for every copy of the cookie."""
    if token:
        db.session.execute(
            delete(CaseListGrant).where(CaseListGrant.token_hash == token_hash(token))
        )
        db.session.commit()
