"""The i18n gate: the POT matches the code, and id/en have nothing untranslated or fuzzy."""

import pytest

from portal.i18n import catalogs


def test_pot_is_current() -> None:
    new, gone = catalogs.stale_pot()
    assert not new, f"run `make i18n-update`: strings missing from the POT: {sorted(map(str, new))}"
    assert not gone, f"run `make i18n-update`: stale strings in the POT: {sorted(map(str, gone))}"


@pytest.mark.parametrize("locale", catalogs.LOCALES)
def test_catalog_is_complete(locale: str) -> None:
    assert catalogs.problems(locale) == []
