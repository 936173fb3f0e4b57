"""dtsen-portal: the public check-and-appeal portal for DTSEN."""

from __future__ import annotations

from typing import Any

from flask import Flask

from portal.config import INSTANCE, Config, asset_dir
from portal.config import load as load_config


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    """Build the app. CONFIG is a Config class, a mapping of overrides, or None (PORTAL_ENV)."""
    # 1. Templates and static files sit beside the package in a checkout and inside it in an
    #    installed wheel (config.asset_dir), so their paths are absolute.
    #    Static files are served by our own route (content-hashed names, portal.assets).
    app = Flask(
        "portal",
        template_folder=str(asset_dir("templates")),
        static_folder=None,
        instance_path=str(INSTANCE),
    )
    app.static_folder = str(asset_dir("static"))
    app.static_url_path = "/static"
    # 2. Configuration, validated before anything binds to it (fails closed).
    config_class, values = load_config(config)
    app.config.update(values)
    config_class.validate(app.config)

    # 3. Extensions. Security first (ProxyFix must wrap before the limiter reads addresses),
    #    then the request guard (body limits, same origin, CSRF: its hook must run before the
    #    limiter's, which reads the form), the database, CSRF, i18n and the limiter.
    from portal import assets, cli, db, errors, guard, i18n, policy, security, templating
    from portal.audit import service as audit
    from portal.extensions import csrf, limiter

    security.init_app(app)
    guard.init_app(app)
    assets.init_app(app)
    db.init_app(app)
    audit.init_app(app)  # seals audit rows into the hash chain before each commit
    csrf.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)  # every template global and filter (after i18n)
    limiter.init_app(app)
    policy.init_app(app)  # the limits of every check against DTSEN (portal/policy.py)

    # 4. Blueprints, from an explicit list.
    from portal import appeals, auth, help, lookup, review, statistik
    from portal.access import views as access
    from portal.appeals import mine, tracking

    for blueprint in (lookup.bp, appeals.bp, tracking.bp, mine.bp, auth.bp, review.bp, help.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(access.bp)
    app.register_blueprint(statistik.bp)

    # 5. Error pages and the CLI.
    errors.init_app(app)
    cli.init_app(app)
    return app
