"""Template globals and filters come from one place (portal.templating), registered when the
app is created; no blueprint registers any, so no page depends on another blueprint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from portal import templating
from portal.appeals.states import AppealStatus

PORTAL = Path(templating.__file__).parent
# Flask's and Jinja's ways of adding a template global, filter or test
REGISTERS = re.compile(
    r"app_template_(global|filter|test)|add_app_template_|add_template_(global|filter|test)"
    r"|\.template_(global|filter|test)\(|jinja_env\.(globals|filters|tests)"
)


def test_only_portal_templating_registers_template_globals_and_filters() -> None:
    offenders = [
        str(path.relative_to(PORTAL))
        for path in sorted(PORTAL.rglob("*.py"))
        if path.name != "templating.py" and REGISTERS.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_app_has_every_global_and_filter_of_portal_templating(app: Flask) -> None:
    for name, value in templating.GLOBALS.items():
        assert app.jinja_env.globals[name] is value, name
    for name, value in templating.FILTERS.items():
        assert app.jinja_env.filters[name] is value, name


def test_review_templates_use_the_presenters_not_state_names_or_slices() -> None:
    templates = PORTAL.parent / "templates"
    states = "|".join(s.value for s in AppealStatus)
    naming = re.compile(rf"""["']({states})["']""")
    for path in sorted(templates.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        assert not naming.search(text), path.name
        # a ticket or a digest cut with [:n]: the ticket and short_hash filters do it
        assert not re.search(r"(ticket|sha256)\[", text), path.name


@pytest.mark.parametrize(
    ("status", "css", "is_open"),
    [
        ("diterima", "status--open", True),
        ("verifikasi", "status--open", True),
        ("disetujui", "status--ok", False),
        ("ditolak", "status--no", False),
        ("duplikat", "status--no", False),
        ("dibatalkan", "status--closed", False),
        ("diteruskan", "status--ok", False),
        ("selesai", "status--ok", False),
    ],
)
def test_status_presenters(status: str, css: str, is_open: bool) -> None:
    assert templating.status_css(status) == css
    assert templating.status_open(status) is is_open


def test_short_hash_is_the_digests_first_twelve_characters() -> None:
    digest = "0123456789abcdef" * 4
    assert templating.short_hash(digest) == "0123456789ab"


def test_gettext_in_templates_formats_as_jinja_newstyle_does(app: Flask) -> None:
    """portal.pages skips the %-formatting of a string that has no variables and no '%':
    a '%%' is still one '%', a variable still filled in and escaped, markup in the catalog
    kept (autoescaped templates)."""
    from flask import render_template_string

    with app.test_request_context("/"):
        shown = render_template_string(
            '{{ _("Up to 50%% of it") }}|{{ _("Plain <b>text</b>") }}|'
            '{{ _("For %(who)s", who="<i>") }}|{{ ngettext("%(num)d x", "%(num)d xs", 2) }}'
        )
    assert shown == "Up to 50% of it|Plain <b>text</b>|For &lt;i&gt;|2 xs"


def test_the_public_layouts_fixed_parts_follow_the_language_and_the_script_root(
    app: Flask,
) -> None:
    """The header, fraud warning and footer are rendered once a language and script root
    (portal.pages.fragment): a page in one language never shows another's, and a portal
    mounted under a prefix links under it."""
    client = app.test_client()
    for root in ("", "/cek"):
        for lang in ("id", "en", "id"):
            page = client.get(f"/?lang={lang}", base_url=f"http://localhost{root}/")
            assert page.status_code == 200
            html = page.get_data(as_text=True)
            header = html[html.index('<header class="site-header">') : html.index("<main")]
            footer = html[html.index('<footer class="site-footer">') :]
            track = "Lacak laporan" if lang == "id" else "Track a case"
            assert f'<a href="{root}/lacak">{track}</a>' in header
            assert f'href="{root}/waspada"' in header  # the fraud warning's link
            assert f'href="{root}/statistik"' in footer
            other = "Track a case" if lang == "id" else "Lacak laporan"
            assert other not in html


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "1.234.567|0|-3|12,5|3 Desember 2026|3 Des 2026|2 Desember 2026"),
        ("en", "1,234,567|0|-3|12.5|December 3, 2026|Dec 3, 2026|December 2, 2026"),
    ],
)
def test_numbers_and_dates_are_written_in_the_readers_language_each_time(
    app: Flask, lang: str, expected: str
) -> None:
    """numberformat and date (kept per language once formatted, portal.i18n.filters): the
    language of the request, then of ``force_locale`` (e-mails, exports), then the request's
    again; a time is shown as its date in Jakarta (18:00 UTC is 01:00 the next day there)."""
    from datetime import UTC, date, datetime

    from flask import render_template_string
    from flask_babel import force_locale

    page = (
        "{{ 1234567 | numberformat }}|{{ 0 | numberformat }}|{{ -3 | numberformat }}|"
        "{{ 12.5 | numberformat }}|{{ late | date }}|{{ late | date('medium') }}|"
        "{{ early | date }}"
    )
    values = {"late": datetime(2026, 12, 2, 18, 0, tzinfo=UTC), "early": date(2026, 12, 2)}
    other = "en" if lang == "id" else "id"
    for __ in range(2):  # formatted, then kept
        with app.test_request_context(f"/?lang={lang}"):
            assert render_template_string(page, **values) == expected
            with force_locale(other):
                assert render_template_string(page, **values) != expected
            assert render_template_string(page, **values) == expected
