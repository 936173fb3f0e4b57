"""Catalog checks and upkeep, shared by ``make i18n-*`` and the test suite.

msgids are English, so the ``en`` catalog is filled from them (``fill-en``); ``id`` is
translated by people. ``check`` fails when the POT is stale or a catalog has an untranslated
or fuzzy entry.

Usage: python -m portal.i18n.catalogs extract | fill-en | check
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from portal.config import ROOT

TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
LOCALES = ("id", "en")


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def extract_to(path: Path) -> None:
    subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [
            str(Path(sys.executable).with_name("pybabel")),
            "extract",
            "-F",
            str(TRANSLATIONS / "babel.cfg"),
            "-k",
            "_l",
            "--add-comments=Translators:",
            "--sort-output",
            "--no-wrap",
            "-o",
            str(path),
            ".",  # relative locations: the same catalog from any checkout
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )


def _keys(catalog: Catalog) -> set[tuple[object, str | None]]:
    return {(m.id, m.context) for m in catalog if m.id}


def stale_pot() -> tuple[set, set]:
    """Messages in the code but not in the POT, and in the POT but no longer in the code."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.pot"
        extract_to(fresh)
        current, committed = _keys(load(fresh)), _keys(load(POT))
    return current - committed, committed - current


def problems(locale: str) -> list[str]:
    """Untranslated, fuzzy or missing entries of a locale against the POT."""
    catalog = load(po_path(locale))
    found = []
    entries: dict[tuple[object, str | None], Message] = {
        (m.id, m.context): m for m in catalog if m.id
    }
    for key in _keys(load(POT)):
        message = entries.get(key)
        if message is None:
            found.append(f"missing: {key[0]!r}")
        elif message.fuzzy:
            found.append(f"fuzzy: {key[0]!r}")
        elif not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            found.append(f"untranslated: {key[0]!r}")
    return found


def fill_en() -> int:
    path = po_path("en")
    catalog = load(path)
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy or not message.string or message.string == ("", ""):
            message.string = message.id
            message.flags.discard("fuzzy")
            filled += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=True)
    return filled


def extract() -> None:
    """Write the POT without its creation date, so an unchanged POT makes no diff."""
    extract_to(POT)
    lines = POT.read_text(encoding="utf-8").splitlines(keepends=True)
    POT.write_text("".join(x for x in lines if not x.startswith('"POT-Creation-Date:')), "utf-8")


def main(argv: list[str]) -> int:
    if argv[:1] == ["extract"]:
        extract()
        print(f"wrote {POT.relative_to(ROOT)}")  # noqa: T201
        return 0
    if argv[:1] == ["fill-en"]:
        print(f"en: filled {fill_en()} entries from their msgids")  # noqa: T201
        return 0
    if argv[:1] == ["check"]:
        new, gone = stale_pot()
        bad = [f"POT is stale: new in code {sorted(map(str, new))}"] if new else []
        bad += [f"POT is stale: gone from code {sorted(map(str, gone))}"] if gone else []
        for locale in LOCALES:
            bad += [f"{locale}: {p}" for p in problems(locale)]
        print("\n".join(bad) or "catalogs OK")  # noqa: T201
        return 1 if bad else 0
    print(__doc__)  # noqa: T201
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
