"""The refusals of filing and following cases: domain exceptions that views map to a message
and a status."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.appeals.filers import FilerCheck


class AppealError(Exception):
    """Base of the refusals a view turns into a message and a status."""


class FilerNotVerified(AppealError):
    pass


class FilerRemoved(FilerNotVerified):
    """NIK + No. KK are a member in the period before the current one only: the household
    was removed in the last update (the look-up's "removed", told to the same numbers), and
    the reason needs a household in the current data. ``check``: where they were found."""

    def __init__(self, check: FilerCheck) -> None:
        super().__init__()
        self.check = check


class FilingLimitReached(AppealError):
    pass


class TooManyOpenCases(AppealError):
    pass


class InvalidTransition(AppealError):
    pass


class ContestNotAllowed(AppealError):
    pass


class DraftIncomplete(AppealError):
    pass


class PhotoLimitReached(AppealError):
    pass


class HeirNotInHousehold(AppealError):
    pass


class OutsideOperatorDesa(AppealError):
    """Assisted filing: the household is not in one of the operator's desa."""
