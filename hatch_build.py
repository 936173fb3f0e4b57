"""Build hook: compile the translation catalogs into the wheel.

The ``.po`` files are the source and are committed; the ``.mo`` files are built (git-ignored).
A wheel without them serves English only, so every wheel is built with them: this hook runs
``pybabel compile``'s equivalent before hatchling collects ``translations/`` into the package
(see ``[tool.hatch.build.targets.wheel.force-include]`` in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogs(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "compile-catalogs"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        catalogs = sorted(Path(self.root, "translations").glob("*/LC_MESSAGES/messages.po"))
        if not catalogs:
            raise RuntimeError("no translations/*/LC_MESSAGES/messages.po to compile")
        for po_path in catalogs:
            locale = po_path.parent.parent.name
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
            if any(message.fuzzy for message in catalog if message.id):
                raise RuntimeError(f"{po_path}: fuzzy entries; run make i18n-check")
            with po_path.with_suffix(".mo").open("wb") as out:
                write_mo(out, catalog)
