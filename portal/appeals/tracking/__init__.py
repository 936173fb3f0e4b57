"""Follow a case with its ticket and the filer's NIK: its own blueprint (tracking)."""

from portal.appeals.tracking.views import bp

__all__ = ["bp"]
