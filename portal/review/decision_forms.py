"""The decision panel's form (portal/review/decisions.py): the decision worded by its effect,
and the confirmation a decision against the evidence needs."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import Length, Optional

from portal.appeals.reasons import DECISION_REASONS, Reason
from portal.forms import BaseForm, options
from portal.review.decisions import EXPLANATION_MAX, effects
from portal.review.forms import DecisionForm


class DecisionPanelForm(DecisionForm):
    confirm = BooleanField(_l("I decide against the evidence, knowingly"))
    override_note = TextAreaField(
        _l("Why you decide against the evidence"),
        description=_l(
            "For the office and Pusdatin, not for the citizen: the export flags this decision "
            "with your note."
        ),
        validators=[
            Optional(),
            Length(min=10, max=2000, message=_l("Write between 10 and 2000 characters.")),
        ],
    )
    conflicts = HiddenField()  # the conflicts the officer was shown, confirmed with the box

    def __init__(self, reason: Reason, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decision.choices = options(effects(reason).items())


class ExplanationsForm(BaseForm):
    """One text per decision reason (fields named after the reason codes)."""

    def texts(self) -> dict[str, str]:
        return {code: self[code].data or "" for code in DECISION_REASONS}


def explanations_form(*args: Any, **kwargs: Any) -> ExplanationsForm:
    fields = {
        code: TextAreaField(
            label,
            validators=[
                Length(
                    min=10,
                    max=EXPLANATION_MAX,
                    message=_l("Write between 10 and 2000 characters."),
                )
            ],
        )
        for code, label in DECISION_REASONS.items()
    }
    form_class = type("ExplanationsFormFor", (ExplanationsForm,), fields)
    return form_class(*args, **kwargs)
