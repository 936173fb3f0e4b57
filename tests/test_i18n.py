"""The i18n gate: the POT matches the code, and id/en have nothing untranslated or fuzzy."""

import re

import pytest

from portal.i18n import catalogs


def test_pot_is_current() -> None:
    new, gone = catalogs.stale_pot()
    assert not new, f"run `make i18n-update`: strings missing from the POT: {sorted(map(str, new))}"
    assert not gone, f"run `make i18n-update`: stale strings in the POT: {sorted(map(str, gone))}"


@pytest.mark.parametrize("locale", catalogs.LOCALES)
def test_catalog_is_complete(locale: str) -> None:
    assert catalogs.problems(locale) == []


def test_every_example_ticket_shown_to_people_is_a_valid_ticket() -> None:
    """A ticket given as an example ("like K7QM-4TXE") passes the check symbol: a person who
    types it in to see how tracking works must not be told it is mistyped."""
    from portal.appeals import tickets

    shape = re.compile(r"\b[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b")
    texts = [m.id for m in catalogs.load(catalogs.POT)]
    texts += [
        m.string for locale in catalogs.LOCALES for m in catalogs.load(catalogs.po_path(locale))
    ]
    examples = {
        code
        for text in texts
        if text
        for part in (text if isinstance(text, tuple) else (text,))
        for code in shape.findall(part)
    }
    assert examples, "no example ticket found in the catalog"
    wrong = {
        code for code in examples if tickets.check_symbol(code.replace("-", "")[:-1]) != code[-1]
    }
    assert not wrong, f"example tickets that fail their check symbol: {sorted(wrong)}"
