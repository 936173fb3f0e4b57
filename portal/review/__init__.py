"""The staff review queue: claim, field verval, decide, export, audit, dashboard.

One blueprint (``review``, under /staf, behind the staff gate), defined with the queue and
case pages in views.py; the contact, dashboard, export, messages and search pages add their routes
to it here, explicitly, rather than as a side effect of being imported."""

from portal.review import (
    contact_views,
    dashboard_views,
    export_views,
    outbox_views,
    search_views,
)
from portal.review.views import bp

contact_views.add_routes(bp)
dashboard_views.add_routes(bp)
export_views.add_routes(bp)
outbox_views.add_routes(bp)
search_views.add_routes(bp)

__all__ = ["bp"]
