"""Following a case: ticket + the filer's NIK open it, through a tracking grant (a random
token for the browser's cookie; only its hash is stored) that expires or is revoked; a ticket
with one typo is suggested back only to its own filer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from portal import db, expiry, policy
from portal.appeals import tickets
from portal.appeals.models import Appeal, TrackingGrant
from portal.core.tokens import new_token, token_hash
from portal.dataimport import queries as snapshots


def find_for_tracking(code: str, nik: str) -> Appeal | None:
    """The case with this ticket filed with this NIK; None for a wrong pair or ticket."""
    policy.require_admission()
    return db.session.scalar(
        select(Appeal).where(
            Appeal.ticket == code, Appeal.filer_nik_hmac == snapshots.pseudonym(nik, "nik")
        )
    )


TRACKING_LIFETIME = timedelta(minutes=30)  # how long a proven ticket + NIK stays open


def grant_tracking(appeal: Appeal) -> str:
    """A browser proved ticket + NIK: a random token for its cookie, valid TRACKING_LIFETIME.
    Expired grants are swept on the way (portal.expiry)."""
    now = db.utcnow()
    expiry.sweep(TrackingGrant, now)
    token = new_token()
    db.session.add(
        TrackingGrant(
            token_hash=token_hash(token), appeal_id=appeal.id, expires_at=now + TRACKING_LIFETIME
        )
    )
    db.session.commit()
    return token


def tracked_appeal(token: str | None) -> Appeal | None:
    """The case a tracking token still opens, or None (unknown, revoked or expired)."""
    if not token:
        return None
    grant = db.session.get(TrackingGrant, token_hash(token))
    if grant is None or grant.expires_at < db.utcnow():
        return None
    return db.session.get(Appeal, grant.appeal_id)


def revoke_tracking(token: str | None) -> None:
    """'Stop showing this case on this device': the grant ends for every copy of the cookie."""
    if token:
        db.session.execute(
            delete(TrackingGrant).where(TrackingGrant.token_hash == token_hash(token))
        )
        db.session.commit()


def suggest_ticket(typo: str, nik: str) -> str | None:
    """The one ticket of this filer that is a single typo away from TYPO, if exactly one."""
    policy.require_admission()
    candidates = tickets.near_misses(typo)
    if not candidates:
        return None
    found = list(
        db.session.scalars(
            select(Appeal.ticket).where(
                Appeal.ticket.in_(candidates),
                Appeal.filer_nik_hmac == snapshots.pseudonym(nik, "nik"),
            )
        )
    )
    return found[0] if len(found) == 1 else None
