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


def test_the_job_worker_unit_runs_the_portals_jobs_worker_and_lets_a_job_finish() -> None:
    """dtsen-portal-jobs.service makes the queued exports (docs/deploy.md, step 6): its
    command is the portal's `jobs work`, restarted on failure, and stopping waits for the
    job in hand (SIGTERM, then TimeoutStopSec)."""
    from portal import create_app

    unit = (ROOT / "deploy" / "systemd" / "dtsen-portal-jobs.service").read_text()
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0] != "#"
    )
    assert settings["ExecStart"] == "/opt/dtsen-portal/venv/bin/flask --app portal jobs work"
    assert settings["Restart"] == "on-failure"
    assert (settings["KillSignal"], settings["KillMode"]) == ("SIGTERM", "mixed")
    assert int(settings["TimeoutStopSec"]) >= 60
    assert settings["User"] == "dtsen"
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": "sqlite://"})
    result = app.test_cli_runner().invoke(args=["jobs", "work", "--help"])
    assert result.exit_code == 0
    assert "--burst" in result.output
    assert "dtsen-portal-jobs.service" in (ROOT / "docs" / "deploy.md").read_text()


def test_the_notification_unit_runs_the_portals_notify_worker_and_is_usable() -> None:
    """dtsen-portal-notify.service sends the outbox (docs/deploy.md, step 6): its command
    exists, it is restarted on failure, stopping lets the message in hand finish, and
    nothing says it is not usable any more."""
    from portal import create_app

    unit = (ROOT / "deploy" / "systemd" / "dtsen-portal-notify.service").read_text()
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0] != "#"
    )
    assert settings["ExecStart"] == "/opt/dtsen-portal/venv/bin/flask --app portal notify run"
    assert settings["Restart"] == "on-failure"
    assert (settings["KillSignal"], settings["KillMode"]) == ("SIGTERM", "mixed")
    assert settings["User"] == "dtsen"
    assert "NOT USABLE" not in unit
    assert "not in this release" not in unit
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": "sqlite://"})
    for command in ("run", "send", "list", "retry"):
        result = app.test_cli_runner().invoke(args=["notify", command, "--help"])
        assert result.exit_code == 0, command
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    assert "dtsen-portal-notify.service" in deploy
    assert "No such command 'notify'" not in deploy
