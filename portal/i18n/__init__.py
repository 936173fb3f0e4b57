"""Locale negotiation: ``?lang=`` (kept in the session) -> session -> id.

Bahasa Indonesia is the legally binding language of the service, so it is the language of
every page unless the person chooses English with the switch (then kept for the session).
The browser's ``Accept-Language`` is deliberately ignored: a phone set to English is no
choice of the person reading, and a page in the wrong language is a page not understood.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale

from portal.config import ConfigError, asset_dir
from portal.extensions import babel

TRANSLATIONS = asset_dir("translations")
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    requested = request.args.get("lang")
    if requested is not None and requested in languages:
        session["lang"] = requested
        return requested
    stored = session.get("lang")
    if isinstance(stored, str) and stored in languages:
        return stored
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _set_locale_global() -> None:
    g.locale = str(get_locale())


def init_app(app: Flask) -> None:
    catalog = Path(TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.mo")
    if not catalog.exists():
        # Without it every page is English: a broken portal for the people it serves.
        if app.config["ENV_NAME"] == "production":
            raise ConfigError(f"The compiled Indonesian catalog is missing ({catalog}).")
        if not app.testing:
            app.logger.warning(
                "Compiled id catalog missing (%s): run `make i18n-compile`.", catalog
            )
    babel.init_app(
        app,
        default_locale=app.config["BABEL_DEFAULT_LOCALE"],
        default_timezone=app.config["BABEL_DEFAULT_TIMEZONE"],
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=select_locale,
    )
    app.before_request(_set_locale_global)
