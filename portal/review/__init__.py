"""The staff review queue: claim, field verval, decide, export, audit, dashboard.

One blueprint (``review``, under /staf, behind the staff gate), defined with the queue and
case pages in views.py; the contact, dashboard, decision, export, field-check (verval), office,
messages and search pages add their routes to it here, explicitly, rather than as a side effect
of being imported."""

from portal.review import (
    contact_views,
    dashboard_views,
    decision_views,
    export_views,
    field_views,
    office_views,
    outbox_views,
    search_views,
)
from portal.review.views import bp

contact_views.add_routes(bp)
dashboard_views.add_routes(bp)
decision_views.add_routes(bp)
export_views.add_routes(bp)
field_views.add_routes(bp)
office_views.add_routes(bp)
outbox_views.add_routes(bp)
search_views.add_routes(bp)

__all__ = ["bp"]
