"""HTTP for the staff dashboard: admin_dinsos (its kabupaten/kota) and pusat (national).
Thin: check the role, read the statistics in scope, audit the view, render."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from flask_babel import format_decimal

from portal.appeals.reasons import REASONS
from portal.auth.decorators import role_required
from portal.auth.models import Role
from portal.review.dashboard import record_view, summary

CHART_AREAS = 15  # the area chart shows the busiest areas; the table beside it lists all


@role_required(Role.ADMIN_DINSOS, Role.PUSAT)
def dashboard() -> str:
    stats = summary(g.staff)
    record_view(g.staff)
    return render_template(
        "review/dashboard.html",
        stats=stats,
        reasons=REASONS,
        chart_areas=CHART_AREAS,
        median=None
        if stats.median_days is None
        else format_decimal(round(stats.median_days, 1), format="#,##0.#"),
    )


def add_routes(bp: Blueprint) -> None:
    """Add the dashboard to the staff blueprint (portal/review/__init__.py)."""
    bp.add_url_rule("/dasbor", view_func=dashboard, methods=["GET"])
