"""HTTP for the public statistics: /statistik (the kabupaten/kota), /statistik/<code> (a
kabupaten/kota, kecamatan or desa) and its CSV. Read-only and the same for everyone, so
cacheable by any cache (no personal data, no cookie set)."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, render_template, request, session
from flask_babel import gettext

from portal import db
from portal.appeals.reasons import REASONS
from portal.statistik import queries
from portal.statistik.labels import OUTCOME_LABELS
from portal.statistik.refresh import TOTAL

bp = Blueprint("statistik", __name__)

MAX_AGE = 300  # seconds a browser or proxy may keep a page


@bp.before_request
def _reads_only() -> None:
    db.reads_only()  # each question in autocommit: no BEGIN or ROLLBACK round trip


@bp.after_request
def _public_cache(response: Response) -> Response:
    if response.status_code == 200 and not session.modified:
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def _period_arg() -> str | None:
    period = request.args.get("periode")
    return period or None


def _missing() -> tuple[str, int]:
    return render_template("statistik/missing.html"), 404


@bp.get("/statistik")
def index() -> str | tuple[str, int]:
    periods = queries.published_periods()
    period = _period_arg() or (next(iter(periods)) if periods else None)
    if period is not None and period not in periods:
        return _missing()
    regions = queries.kabupaten_list(periods[period]) if period else []
    return render_template(
        "statistik/index.html", period=period, periods=list(periods), regions=regions
    )


@bp.get("/statistik/<code>")
def region(code: str) -> str | tuple[str, int]:
    page = queries.page(code, _period_arg())
    if page is None:
        return _missing()
    return render_template(
        "statistik/region.html",
        page=page,
        outcome_labels=OUTCOME_LABELS,
        reason_titles={code: r.title for code, r in REASONS.items()},
    )


@bp.get("/statistik/<code>/data.csv")
def region_csv(code: str) -> Response | tuple[str, int]:
    page = queries.page(code, _period_arg())
    if page is None:
        return _missing()
    body = "\ufeff" + to_csv(page)  # the BOM: spreadsheet programs then read UTF-8
    response = Response(body.encode("utf-8"), mimetype="text/csv")
    name = f"statistik-{page.code}-{page.period}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


COLUMNS = ("periode", "kode_wilayah", "nama_wilayah", "ukuran", "kategori", "nilai", "perubahan")


def csv_rows(page: queries.Page) -> list[tuple[str, ...]]:
    """The page's numbers as CSV rows, the same texts ("<5", "*") as its tables."""
    out: list[tuple[str, ...]] = []

    def add(code: str, name: str, measure: str, category: str, text: str, change: str = "") -> None:
        out.append((page.period, code, name, measure, category, text, change))

    for row in [*page.bands, page.total]:
        change = row.change.text if row.change is not None else ""
        add(page.code, page.name, "rumah_tangga", row.key, row.households.text, change)
        add(page.code, page.name, "jiwa", row.key, row.persons.text)
    for row in page.programs:
        add(page.code, page.name, "program_rumah_tangga", row.key, row.households.text)
        add(page.code, page.name, "program_jiwa", row.key, row.persons.text)
    for reason, cell in page.reasons:
        add(page.code, page.name, "kasus_alasan", reason, cell.text)
    for outcome, cell in page.outcomes:
        add(page.code, page.name, "kasus_hasil", outcome, cell.text)
    add(page.code, page.name, "kasus", TOTAL, page.cases.text)
    median = "" if page.median_days is None else f"{page.median_days:g}"
    share = "" if page.on_time_share is None else f"{page.on_time_share:.3f}"
    add(page.code, page.name, "median_hari_keputusan", TOTAL, median)
    add(page.code, page.name, "porsi_tepat_waktu", TOTAL, share)
    for child in page.children:
        name = child.name if child.link else gettext("Desa not stated")
        add(child.code, name, "rumah_tangga", TOTAL, child.households.text)
        add(child.code, name, "jiwa", TOTAL, child.persons.text)
        add(child.code, name, "kasus", TOTAL, child.cases.text)
    return out


def to_csv(page: queries.Page) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(csv_rows(page))
    return buffer.getvalue()
