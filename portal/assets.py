"""Static files under content-hashed names, cached by browsers for a year.

``url_for("static", filename="css/portal.css")`` gives ``/static/css/portal.3b9c0e1f2a.css``:
the name changes whenever the content does, so a browser (and nginx, see
``deploy/nginx/dtsen-portal.conf``) can keep a file for a year and still never show an old
stylesheet after a release. The files keep their plain names on disk; the hash is computed
once per process, at start-up. A plain name is still served, with a short cache, for anything
that links to it directly.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app, send_from_directory
from werkzeug.wrappers import Response

HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{10})(?P<suffix>\.[A-Za-z0-9]+)$")
YEAR = 365 * 24 * 3600
HOUR = 3600


def hashed_name(path: Path, relative: str) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    stem, dot, suffix = relative.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{relative}.{digest}"


def build_manifest(folder: Path) -> dict[str, str]:
    """{plain name: hashed name} for every file under FOLDER (posix relative paths)."""
    manifest = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            relative = path.relative_to(folder).as_posix()
            manifest[relative] = hashed_name(path, relative)
    return manifest


def _hashed_url(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values:
        manifest = current_app.extensions["static_manifest"]
        values["filename"] = manifest.get(values["filename"], values["filename"])


def static(filename: str) -> Response:
    """Serve a static file by its hashed name (a year, immutable) or its plain name (an hour)."""
    folder = current_app.static_folder
    if folder is None:
        abort(404)
    manifest: dict[str, str] = current_app.extensions["static_manifest"]
    match = HASHED.match(filename)
    if match:
        plain = match["stem"] + match["suffix"]
        if manifest.get(plain) != filename:
            abort(404)  # an old or made-up hash: never serve other content under it
        response = send_from_directory(folder, plain, max_age=YEAR)
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response
    if filename not in manifest:
        abort(404)
    return send_from_directory(folder, filename, max_age=HOUR)


def init_app(app: Flask) -> None:
    """Replace Flask's static route by ours (same endpoint name, so url_for is unchanged)."""
    folder = Path(app.static_folder or "")
    app.extensions["static_manifest"] = build_manifest(folder) if folder.is_dir() else {}
    app.url_defaults(_hashed_url)
    app.add_url_rule(f"{app.static_url_path}/<path:filename>", "static", static)
