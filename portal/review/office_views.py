"""HTTP for office work on many cases: field checks for several cases of one desa (the
deciders), and moving an officer's cases to another verifikator (admin_dinsos only). Thin:
read the choice, call office.py, PRG."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from portal.auth.decorators import role_required
from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.review import office
from portal.wilayah import queries as wilayah

DECIDER_ROLES = (Role.VERIFIKATOR, Role.ADMIN_DINSOS)
INSTRUCTIONS_MAX = 2000


def _ids(name: str) -> list[int]:
    """The case ids chosen in the form (checkboxes named NAME); 400 on anything else."""
    raw = request.form.getlist(name)
    if len(raw) > office.BULK_MAX * 5:
        abort(400)
    if any(not value.isdigit() or len(value) > 9 for value in raw):
        abort(400)
    return [int(value) for value in raw]


def _staff_id(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 9:
        abort(400)
    return int(raw)


def _desa_choices() -> list[tuple[str, str]]:
    if not g.staff.office_code:
        return []
    return wilayah.describe(wilayah.desa_in_kabupaten(g.staff.office_code))


@role_required(*DECIDER_ROLES)
def bulk_verval() -> Any:
    """GET: choose a desa, then its open cases; POST: one field check per chosen case."""
    choices = _desa_choices()
    known = {code for code, _name in choices}
    form = EmptyForm()
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if not form.validate():
            abort(400)
        desa = request.form.get("desa", "")
        chosen = _ids("case")
        instructions = request.form.get("instructions", "").strip()
        if desa not in known:
            abort(404)  # a desa outside the office looks like none
        if not chosen:
            errors.append(_("Choose at least one case."))
        if len(instructions) < 10 or len(instructions) > INSTRUCTIONS_MAX:
            errors.append(_("Say what to check, in 10 to 2000 characters."))
        if not errors:
            try:
                checks = office.bulk_field_checks(g.staff, desa, chosen, instructions)
            except office.NotAllowed:
                abort(403)
            except office.NotEligible:
                errors.append(
                    _(
                        "Some chosen cases cannot be sent for a field check from here "
                        "(another desa, taken by another officer or already in a check). "
                        "Nothing was sent: choose again."
                    )
                )
            else:
                flash(
                    ngettext(
                        "%(num)d field check was sent to the operators of the desa.",
                        "%(num)d field checks were sent to the operators of the desa.",
                        len(checks),
                    ),
                    "success",
                )
                return redirect(url_for("review.bulk_verval", desa=desa))
        status = 400
    else:
        desa = request.args.get("desa", "")
        instructions = ""
        if desa and desa not in known:
            abort(404)
    cases = office.bulk_candidates(g.staff, desa) if desa else []
    return render_template(
        "review/bulk_verval.html",
        choices=choices,
        desa=desa,
        desa_name=dict(choices).get(desa, ""),
        cases=cases,
        form=form,
        errors=errors,
        instructions=instructions,
        limit=office.BULK_MAX,
        note_max=INSTRUCTIONS_MAX,
    ), status


@role_required(Role.ADMIN_DINSOS)
def reassign_page() -> Any:
    officer_id = _staff_id(request.args.get("dari"))
    cases = None
    if officer_id is not None:
        cases = office.open_cases_of(g.staff, officer_id)
        if cases is None:
            abort(404)
    return render_template(
        "review/reassign.html",
        officers=office.officers(g.staff),
        officer_id=officer_id,
        cases=cases,
        targets=office.targets(g.staff, officer_id or 0) if officer_id else [],
        form=EmptyForm(),
    )


@role_required(Role.ADMIN_DINSOS)
def reassign() -> Response:
    if not EmptyForm().validate():
        abort(400)
    from_id = _staff_id(request.form.get("dari"))
    to_id = _staff_id(request.form.get("ke"))
    if from_id is None:
        abort(400)
    back = url_for("review.reassign_page", dari=from_id)
    if to_id is None:
        flash(_("Choose the verifikator who takes the cases over."), "error")
        return redirect(back)
    chosen = None if request.form.get("semua") == "y" else _ids("case")
    if chosen == []:
        flash(_("Choose at least one case, or move them all."), "error")
        return redirect(back)
    try:
        moved = office.reassign(g.staff, from_id, to_id, chosen)
    except office.NotAllowed:
        abort(404)  # officers of another office look like none
    except office.NotEligible:
        flash(
            _(
                "Some chosen cases cannot be moved (no longer open or held by this officer, "
                "or a contest of a decision the new officer made). Nothing was moved."
            ),
            "error",
        )
        return redirect(back)
    flash(
        ngettext(
            "%(num)d case was moved to the new officer.",
            "%(num)d cases were moved to the new officer.",
            len(moved),
        ),
        "success",
    )
    return redirect(back)


def add_routes(bp: Blueprint) -> None:
    """Add the office pages to the staff blueprint (portal/review/__init__.py)."""
    bp.add_url_rule("/verval-massal", view_func=bulk_verval, methods=["GET", "POST"])
    bp.add_url_rule("/alihkan", view_func=reassign_page, methods=["GET"])
    bp.add_url_rule("/alihkan", view_func=reassign, methods=["POST"])
