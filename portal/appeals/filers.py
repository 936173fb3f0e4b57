"""Who may file: NIK + No. KK proven against DTSEN (the current period, or for a removed
household the last period it was in), and an heir on the same family card as the deceased."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal import access
from portal.appeals.errors import FilerNotVerified, FilerRemoved, HeirNotInHousehold
from portal.dataimport import queries as snapshots

# A household removed in the last update objects to its removal (EXC-DICORET): its filer is
# proven against the last published period it was in (the look-up's "removed" outcome), not
# only the current one. Every other reason needs the filer in the current data.
FILER_IN_LAST_PERIOD = frozenset({"EXC-DICORET"})
# The reason that may be filed by someone who is not in DTSEN at all.
FILER_NOT_IN_DTSEN = "EXC-TIDAK-TERDATA"


@dataclass(frozen=True)
class FilerCheck:
    membership: snapshots.Membership | None  # where NIK + No. KK were found; None: not found
    current: str | None = None  # the current period when they were found

    @property
    def verified(self) -> bool:
        return self.membership is not None

    @property
    def period(self) -> str | None:
        """The period the filer's household was found in (2026Q2), for "registered in"."""
        return self.membership.snapshot.period if self.membership else None

    @property
    def removed(self) -> bool:
        """Found, but not in the current period: the look-up's "removed in the last update"
        (portal/lookup/service.py: of the two latest periods, the newer that has the pair is
        not the current one; verify_member asks the same two)."""
        return self.membership is not None and self.period != self.current


def verify_filer(nik: str, no_kk: str, reason_code: str) -> FilerCheck:
    """Where NIK + No. KK are a member of DTSEN: the current period, or for EXC-DICORET the
    last period the household was in. Raises FilerNotVerified when the reason needs a
    verified filer (everything but a household missing from DTSEN): FilerRemoved when the
    household was removed in the last update, which the look-up tells the same numbers.

    Every reason that needs a verified filer asks both periods, so that a removed household
    is told so rather than "not found"; a "no" is the same one query either way
    (verify_member)."""
    membership, _, _ = snapshots.verify_member(
        nik, no_kk, or_previous=reason_code != FILER_NOT_IN_DTSEN
    )
    if membership is None:
        if reason_code != FILER_NOT_IN_DTSEN:
            raise FilerNotVerified
        return FilerCheck(None)
    current = snapshots.current_snapshot()
    found = FilerCheck(membership, current.period if current else None)
    if found.removed and reason_code not in FILER_IN_LAST_PERIOD:
        raise FilerRemoved(found)
    return found


def record_filer_read(
    check: FilerCheck, no_kk: str, ip_prefix: str | None, *, office: str | None = None
) -> None:
    """A proven filer's household is read: the next steps list its members (masked). Logged
    in its access record like a look-up (portal.access), committed with the draft's step.
    OFFICE: a desa operator files for the citizen at that desa office (assisted.py): the
    read is a filing through the "assisted" channel by an operator_desa of that desa."""
    if check.membership is None:
        return
    access.record(
        access.Purpose.FILING,
        snapshots.pseudonym(no_kk, "kk"),
        reader=access.Reader(
            role="operator_desa" if office else None, office=office, ip_prefix=ip_prefix
        ),
        period=check.period,
        channel="assisted" if office else None,
    )


def filer_still_proven(filer: dict[str, Any], reason_code: str) -> bool:
    """Whether a filer proven for one reason stays proven for REASON_CODE: only if proven in
    the current period, or if the new reason also accepts the last period."""
    if not filer.get("verified"):
        return False
    if reason_code in FILER_IN_LAST_PERIOD or not filer.get("period"):
        return True
    current = snapshots.current_snapshot()
    return current is not None and filer["period"] == current.period


def check_heir(no_kk: str, deceased_nik: str, heir_nik: str) -> None:
    """Both people must be on the same family card in the current data. Both are always
    checked, so the answer takes as long whichever of them is not on it."""
    found = [snapshots.is_member(nik, no_kk) for nik in (deceased_nik, heir_nik)]
    if not all(found):
        raise HeirNotInHousehold
