"""The refusals of filing and following cases: domain exceptions that views map to a message
and a status."""

from __future__ import annotations


class AppealError(Exception):
    """Base of the refusals a view turns into a message and a status."""


class FilerNotVerified(AppealError):
    pass


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
