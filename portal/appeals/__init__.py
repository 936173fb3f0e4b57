"""Sanggahan and usulan: file a case, get a ticket, follow it to a decision."""

from portal.appeals.views import bp

__all__ = ["bp"]
