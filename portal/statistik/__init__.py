"""Public statistics at /statistik (issue 13 part 2): docs/statistics.md."""

from portal.statistik.views import bp

__all__ = ["bp"]
