"""``python -m portal settings``: print the settings table of docs/settings.md.

Everything else goes through ``flask --app portal ...`` (it needs a configured app); this
needs none, so it works before the first configuration exists.
"""

from __future__ import annotations

import argparse
import sys

from portal.config import markdown_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal", description=__doc__)
    parser.add_argument("command", choices=["settings"], help="what to print")
    parser.parse_args(argv)
    sys.stdout.write(markdown_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
