"""HTTP for the staff dashboard: admin_dinsos (its kabupaten/kota) and pusat (national).
Thin: check the role, read the statistics in scope, audit the view, render."""

from __future__ import annotations

from flask import g, render_template
from flask_babel import format_decimal

from portal.appeals.reasons import REASONS
from portal.appeals.states import TITLES
from portal.auth.decorators import role_required
from portal.auth.models import Role
from portal.review.dashboard import record_view, summary
from portal.review.views import bp

CHART_AREAS = 15  # the area chart shows the busiest areas; the table beside it lists all


@bp.get("/dasbor")
@role_required(Role.ADMIN_DINSOS, Role.PUSAT)
def dashboard() -> str:
    stats = summary(g.staff)
    record_view(g.staff)
    return render_template(
        "review/dashboard.html",
        stats=stats,
        titles=TITLES,
        reasons=REASONS,
        chart_areas=CHART_AREAS,
        median=None
        if stats.median_days is None
        else format_decimal(round(stats.median_days, 1), format="#,##0.#"),
    )
