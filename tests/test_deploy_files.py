"""The shipped deployment files keep personal data out of logs (docs/deploy.md)."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_app_servers_access_log_names_no_client_and_no_query() -> None:
    """nginx logs the client's address for abuse work, kept briefly; the app's access log,
    which lives as long as the journal, carries none, and no query string."""
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    fmt = conf["access_log_format"]
    for leak in ("%(h)s", "%(r)s", "%(q)s", "%(u)s"):  # host, request line, query, user
        assert leak not in fmt, leak
    assert "x-forwarded-for" not in fmt.lower()
    assert conf["control_socket_disable"] is True
