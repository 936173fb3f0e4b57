"""PLACEHOLDER: replaced by the export implementation."""

from flask import abort

from portal.review.views import bp


@bp.get("/ekspor")
def exports() -> None:
    abort(404)
