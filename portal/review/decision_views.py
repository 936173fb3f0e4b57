"""HTTP helpers of the decision panel (the case page and review.decide in views.py) and the
page where an admin_dinsos keeps the office's standard explanations. Thin: forms, one
service call (portal/review/decisions.py), PRG."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.appeals import tickets
from portal.appeals.reasons import DECISION_REASONS, REASONS
from portal.auth.decorators import role_required
from portal.auth.models import Role, StaffUser
from portal.guard import csrf_in_form
from portal.review import decision_rules, decisions, service
from portal.review.decision_forms import DecisionPanelForm, explanations_form


@dataclass(frozen=True)
class Explanation:
    code: str
    reason: object
    text: str


@dataclass(frozen=True)
class Panel:
    """What the decision panel shows besides its form."""

    explanations: list[Explanation]
    conflicts: list[object]  # what the decision contradicts, in words (empty: nothing)


def panel_form(
    appeal: Any, user: StaffUser, args: Mapping[str, str] | None = None
) -> DecisionPanelForm:
    """The decision form of APPEAL: from the POST, or (ARGS: the page's query) empty or with
    the standard explanation the officer picked (``?penjelasan=<reason>``) to edit."""
    reason = REASONS[appeal.reason_code]
    if args is None:
        return DecisionPanelForm(reason)
    picked = args.get("penjelasan", "")
    if picked in DECISION_REASONS:
        text = decisions.explanations(appeal.kabupaten_code)[picked]
        return DecisionPanelForm(reason, formdata=None, data={"reason": picked, "note": text})
    return DecisionPanelForm(reason, formdata=None)


def panel(appeal: Any, user: StaffUser, conflicts: tuple[str, ...]) -> Panel:
    texts = decisions.explanations(appeal.kabupaten_code)
    return Panel(
        explanations=[
            Explanation(code, label, texts[code]) for code, label in DECISION_REASONS.items()
        ],
        conflicts=[decisions.CONFLICT_TEXTS[c] for c in conflicts],
    )


def confirmed(form: DecisionPanelForm) -> frozenset[str]:
    """The conflicts the officer confirmed: those they were shown, when the box is ticked."""
    return decision_rules.parse(form.conflicts.data) if form.confirm.data else frozenset()


def ask_confirmation(form: DecisionPanelForm, conflicts: tuple[str, ...]) -> None:
    """Show the form again with CONFLICTS to confirm, and say what is missing."""
    shown = decision_rules.parse(form.conflicts.data)
    if form.confirm.data and set(conflicts) <= shown:
        form.override_note.errors = [
            *form.override_note.errors,
            _("Write why you decide against the evidence."),
        ]
    elif form.confirm.data:
        form.form_errors.append(
            _("The evidence changed meanwhile. Read the conflicts again before confirming.")
        )
    else:
        form.form_errors.append(
            _(
                "This decision contradicts the evidence. Change it, or confirm it with a note "
                "for the office."
            )
        )
    form.conflicts.data = decision_rules.join(conflicts)
    form.confirm.data = False  # a new look at the conflicts, a new tick


def take_next_case() -> Response:
    """The next unassigned case (button or after a decision), or the queue when none waits."""
    try:
        appeal = service.take_next(g.staff)
    except service.NotAllowed:
        abort(403)
    except service.NothingToTake:
        flash(_("No unassigned case is waiting."), "info")
        return redirect(url_for("review.queue"))
    flash(_("Case %(ticket)s is now yours.", ticket=tickets.display(appeal.ticket)), "success")
    return redirect(url_for("review.case", appeal_id=appeal.id))


@role_required(Role.ADMIN_DINSOS)
@csrf_in_form
def explanations() -> Any:
    """The office's standard explanation of each decision reason."""
    if not decisions.may_edit_explanations(g.staff):
        abort(403)
    current = decisions.explanations(g.staff.office_code)
    form = explanations_form(data=current) if request.method == "GET" else explanations_form()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                changed = decisions.save_explanations(g.staff, form.texts())
            except decisions.NotAllowed:
                abort(403)
            except ValueError as bad:
                form[str(bad)].errors = [_("Write between 10 and 2000 characters.")]
                return render_template("review/explanations.html", form=form), 400
            if changed:
                flash(_("Explanations saved. Officers pick from them now."), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("review.explanations"))
        status = 400
    return render_template("review/explanations.html", form=form), status


def add_routes(bp: Blueprint) -> None:
    """Add the explanations page to the staff blueprint (portal/review/__init__.py)."""
    bp.add_url_rule("/penjelasan", view_func=explanations, methods=["GET", "POST"])
