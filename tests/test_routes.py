"""Route snapshot (after Notify's tests/app/test_routes.py).

If this test fails, a route was added, removed or changed. That is a review point, not a
formality: check the new route's method, its rate limit, CSRF, who may call it and whether a
NIK could end up in its URL. Then update tests/routes.txt to the new list (the failure
message prints it).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

ROUTES_FILE = Path(__file__).with_name("routes.txt")
IMPLICIT = {"HEAD", "OPTIONS"}


def route_lines(app: Flask) -> list[str]:
    """METHODS RULE ENDPOINT [flags]: ``photos`` (multipart, photo body limit),
    ``form-csrf`` (the view's form checks the token and re-renders on failure; every other
    POST is checked by the guard before the view runs) and ``dtsen:<check>`` (the checks
    against DTSEN it runs through portal/policy.py)."""
    lines = []
    for rule in app.url_map.iter_rules():
        methods = ",".join(sorted((rule.methods or set()) - IMPLICIT))
        view = app.view_functions[rule.endpoint]
        flags = [
            flag
            for flag, attribute in (("photos", "accepts_photos"), ("form-csrf", "csrf_in_form"))
            if getattr(view, attribute, False)
        ]
        flags += [f"dtsen:{check.value}" for check in getattr(view, "dtsen_checks", ())]
        suffix = f" [{','.join(flags)}]" if flags else ""
        lines.append(f"{methods} {rule.rule} {rule.endpoint}{suffix}")
    return sorted(lines)


def test_routes_match_the_reviewed_snapshot(app: Flask) -> None:
    expected = ROUTES_FILE.read_text(encoding="utf-8").splitlines()
    current = route_lines(app)
    assert current == expected, (
        "The route list changed. Review the change, then write this to tests/routes.txt:\n"
        + "\n".join(current)
    )
