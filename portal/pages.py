"""Per-request work the page layout does not need, done once a process.

Every page's layout links the stylesheet, the icon and the site's sections with
``url_for``, and translates a few dozen strings. Two things here make that cheaper without
changing any page:

- ``url_for`` in templates keeps the URLs that cannot change while the process runs: static
  files (their content-hashed names are computed at start-up, portal.assets) and endpoints
  without values, per script root (the prefix a proxy mounts the portal under). Anything
  else (values, ``_external``, a relative ``.endpoint``) is built as before.
- ``_()``/``gettext``/``ngettext`` in templates call Flask-Babel's translations directly,
  with Jinja's "newstyle" rules unchanged (autoescaped, always %-formatted), instead of
  through ``Context.call`` on every string. They take the evaluation context only (all
  they need is whether it autoescapes): a callable that takes the whole context makes Jinja
  derive a new context on each call inside a loop or a block with variables.
- ``fragment(name)`` in templates gives the parts of the public layout that depend only on
  the language and the script root (the header around the language switch, the fraud
  warning, the footer: ``templates/layouts/_<name>.html``), rendered once a language and
  script root a process instead of some 25 ``url_for`` and translated strings a page.
- :func:`translated` does the same for a label made with ``lazy_gettext`` (a program's,
  a relation's name), which would otherwise look up the app, the domain and the locale.
"""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import Flask, request
from flask.globals import _cv_app
from flask_babel import get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup


def _cached_url_for(app: Flask) -> Any:
    build = app.url_for
    cache: dict[tuple[str, str, str], str] = {}

    def url_for(endpoint: str, **values: Any) -> str:
        if endpoint.startswith(".") or (values and (endpoint != "static" or len(values) != 1)):
            return build(endpoint, **values)
        filename = values.get("filename", "")
        if not isinstance(filename, str):
            return build(endpoint, **values)
        key = (request.script_root, endpoint, filename)
        url = cache.get(key)
        if url is None:
            url = cache[key] = build(endpoint, **values)
        return url

    return url_for


def _translations() -> NullTranslations:
    """Flask-Babel's translations for this request, found once per locale: its own
    get_translations looks up the app, the domain and the locale on every string. Kept beside
    Flask-Babel's per-request state (``g._flask_babel``) and only while its locale is the same
    object, so ``force_locale`` (e-mails, exports) gets its own language."""
    app_ctx = _cv_app.get(None)  # what the ``g`` proxy resolves, without its two calls
    if app_ctx is None:
        return get_translations()
    state: Any = getattr(app_ctx.g, "_flask_babel", None)
    locale = getattr(state, "babel_locale", None)
    if locale is None:
        return get_translations()
    cached = getattr(state, "portal_translations", None)
    if cached is None or cached[0] is not locale:
        cached = (locale, get_translations())
        state.portal_translations = cached
    return cached[1]


def translated(label: Any) -> str:
    """LABEL in the request's language: a ``lazy_gettext`` string without variables through
    the request's translations (as :func:`_gettext`), anything else as ``str()`` does."""
    if (
        isinstance(label, LazyString)
        and not label._kwargs
        and len(label._args) == 1
        and getattr(label._func, "__name__", "") == "gettext"
    ):
        return _translations().ugettext(label._args[0])
    return str(label)


@pass_eval_context
def _gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
    value = _translations().ugettext(string)
    if eval_ctx.autoescape:
        value = Markup(value)  # noqa: S704 (our catalogs, as Jinja's own newstyle gettext)
    if not variables and "%" not in value:
        return value  # what `% {}` would give: most strings of a page (no escaping pass)
    return value % variables


@pass_eval_context
def _ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    value = _translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        value = Markup(value)  # noqa: S704 (our catalogs, as Jinja's own newstyle gettext)
    return value % variables


_FRAGMENTS_KEPT = 64  # three fragments x languages x script roots; more is not normal


def _fragment(app: Flask) -> Any:
    """``fragment(name)``: ``layouts/_<name>.html`` rendered once per translations (the
    language) and script root. Such a template may use only ``_``/``gettext``, ``{% trans %}``
    and ``url_for`` of the endpoints without values: nothing of the request or the session."""
    cache: dict[tuple[str, NullTranslations, str], Markup] = {}

    def fragment(name: str) -> Markup:
        key = (name, _translations(), request.script_root)
        html = cache.get(key)
        if html is None:
            if len(cache) >= _FRAGMENTS_KEPT:  # script roots are the server's, but bounded
                cache.clear()
            template = app.jinja_env.get_template(f"layouts/_{name}.html")
            html = cache[key] = Markup(template.render())  # noqa: S704 (our templates, autoescaped)
        return html

    return fragment


def template_globals(app: Flask) -> dict[str, Any]:
    """The template globals that replace Flask's ``url_for`` and Flask-Babel's gettext
    callables (registered by portal.templating, after Flask-Babel's init_app)."""
    return {
        "url_for": _cached_url_for(app),
        "gettext": _gettext,
        "_": _gettext,
        "ngettext": _ngettext,
        "fragment": _fragment(app),
    }
