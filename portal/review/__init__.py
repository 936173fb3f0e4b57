"""The staff review queue: claim, field verval, decide, export, audit, dashboard."""

from portal.review import contact_views, dashboard_views, export_views  # noqa: F401  (routes on bp)
from portal.review.views import bp

__all__ = ["bp"]
