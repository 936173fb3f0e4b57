"""HTTP for the staff dashboard: admin_dinsos (its kabupaten/kota) and pusat (national).
Thin: check the role, read the statistics in scope, audit the view, render. The monthly
summary for the Kepala Dinas is a page of its own, made to be printed on A4 (no script)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, g, render_template, request
from flask_babel import format_date, format_decimal

from portal.appeals.reasons import REASONS
from portal.auth.decorators import role_required
from portal.auth.models import Role
from portal.db import utcnow
from portal.review import dashboard as stats_of
from portal.review.dashboard import record_print, record_view, summary

CHART_AREAS = 15  # the area chart shows the busiest areas; the table beside it lists all
MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")


@role_required(Role.ADMIN_DINSOS, Role.PUSAT)
def dashboard() -> str:
    now = utcnow()
    stats = summary(g.staff, now)
    kabupaten = g.staff.role_enum is Role.ADMIN_DINSOS  # who and where: one office's staff
    record_view(g.staff)
    return render_template(
        "review/dashboard.html",
        stats=stats,
        reasons=REASONS,
        chart_areas=CHART_AREAS,
        median=None
        if stats.median_days is None
        else format_decimal(round(stats.median_days, 1), format="#,##0.#"),
        officers=stats_of.by_officer(g.staff, now) if kabupaten else [],
        desa=stats_of.by_desa(g.staff, now) if kabupaten else [],
        months=stats_of.by_month(g.staff, now),
        this_month=now.strftime("%Y-%m"),
    )


@role_required(Role.ADMIN_DINSOS, Role.PUSAT)
def print_summary() -> tuple[str, int] | str:
    now = utcnow()
    month = request.args.get("bulan", now.strftime("%Y-%m"))
    found = MONTH.match(month)
    if found is None or month > now.strftime("%Y-%m"):
        abort(400)
    figures = stats_of.month_summary(g.staff, month, now)
    record_print(g.staff, month)
    first = stats_of.month_start(now).replace(year=int(found[1]), month=int(found[2]))
    return render_template(
        "review/summary_print.html",
        figures=figures,
        reasons=REASONS,
        month_title=format_date(first, "MMMM yyyy"),
        printed_at=now,
        months=stats_of.months_back(now, 12)[::-1],
    )


def add_routes(bp: Blueprint) -> None:
    """Add the dashboard to the staff blueprint (portal/review/__init__.py)."""
    bp.add_url_rule("/dasbor", view_func=dashboard, methods=["GET"])
    bp.add_url_rule("/dasbor/cetak", view_func=print_summary, methods=["GET"])
