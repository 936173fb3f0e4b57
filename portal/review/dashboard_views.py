"""PLACEHOLDER: replaced by the dashboard implementation."""

from flask import abort

from portal.review.views import bp


@bp.get("/dasbor")
def dashboard() -> None:
    abort(404)
