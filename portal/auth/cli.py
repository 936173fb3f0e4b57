"""``flask --app portal staff ...``: accounts for Dinsos staff, desa operators and pusat."""

from __future__ import annotations

import click
from flask import current_app, url_for
from flask.cli import AppGroup
from sqlalchemy import select

from portal import db
from portal.auth import service
from portal.auth.models import Role, StaffUser
from portal.auth.sessions import store

staff_cli = AppGroup("staff", help="Staff accounts (roles, region scope, enrolment, sessions).")


def _link(token: str, base_url: str) -> str:
    with current_app.test_request_context(base_url=base_url):
        return url_for("auth.enrol", token=token, _external=True)


def _user(email: str) -> StaffUser:
    user = service.by_email(email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    return user


BASE_URL = click.option(
    "--base-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where the portal is served, to print a complete enrolment link.",
)


@staff_cli.command("create")
@click.option("--email", required=True, help="The officer's work e-mail (their login).")
@click.option("--name", required=True, help="Full name, shown in the audit trail.")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="operator_desa, verifikator, admin_dinsos or pusat.",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Scope: a kabupaten/kota code (32.16) for verifikator and admin_dinsos; one or more "
    "desa codes (32.16.01.2001) for operator_desa; none for pusat. Repeat for several desa.",
)
@BASE_URL
def create_command(
    email: str, name: str, role: str, regions: tuple[str, ...], base_url: str
) -> None:
    """Create an account and print its one-time enrolment link (valid STAFF_ENROL_HOURS).

    At the link the officer sets a password and connects an authenticator app (TOTP);
    both are required at every sign-in. Hand the link over in person or by a trusted channel.
    """
    try:
        created = service.create_staff(email, name, role, list(regions))
    except service.StaffDataError as exc:
        raise click.ClickException(str(exc)) from exc
    user = created.user
    scope = ", ".join(user.desa_codes) or user.office_code or "national"
    click.echo(f"created {user.email} ({user.role}, scope: {scope})")
    click.echo(f"enrolment link (one use): {_link(created.enrol_token, base_url)}")


@staff_cli.command("list")
def list_command() -> None:
    """List accounts: e-mail, role, scope, enrolled, active."""
    for user in db.session.scalars(
        select(StaffUser).order_by(StaffUser.office_code, StaffUser.email)
    ):
        scope = ",".join(user.desa_codes) or user.office_code or "national"
        state = "active" if user.active else "inactive"
        enrolled = "enrolled" if user.enrolled_at else "not enrolled"
        click.echo(f"{user.email:<32} {user.role:<14} {scope:<20} {enrolled:<13} {state}")


@staff_cli.command("reset")
@click.argument("email")
@BASE_URL
def reset_command(email: str, base_url: str) -> None:
    """Clear the password and authenticator of EMAIL, end its sessions, print a new link."""
    token = service.reset_staff(_user(email))
    click.echo(f"reset {email}; new enrolment link (one use): {_link(token, base_url)}")


@staff_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Block EMAIL from signing in and end its sessions (the account and its audit remain)."""
    service.set_active(_user(email), False)
    click.echo(f"deactivated {email}")


@staff_cli.command("activate")
@click.argument("email")
def activate_command(email: str) -> None:
    """Allow EMAIL to sign in again."""
    service.set_active(_user(email), True)
    click.echo(f"activated {email}")


@staff_cli.command("revoke-sessions")
@click.argument("email")
def revoke_command(email: str) -> None:
    """End every session of EMAIL now (for a lost or stolen device)."""
    count = store().revoke_all(_user(email).id)
    click.echo(f"ended {count} session(s) of {email}")
