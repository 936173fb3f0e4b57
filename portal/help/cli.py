"""``flask --app portal wilayah contacts ...``: the Dinas Sosial contacts shown to citizens."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from portal.help import loader

contacts_cli = AppGroup(
    "contacts", help="Contact of each kabupaten/kota's Dinas Sosial (address, phone, hours)."
)


@contacts_cli.command("import")
@click.argument(
    "file",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
def import_command(file: Path | None) -> None:
    """Load contacts from FILE (CSV; header and columns in portal/data/kontak-dinsos.md).

    Default: portal/data/kontak-dinsos.csv, which ships with a header and no rows: the
    portal invents no office's number; fill in your own. Safe to run again: only new or
    changed rows are written, each one audited. A file with any bad line is refused whole,
    with `line N: reason` for each. Rows of kabupaten/kota not in FILE are kept.
    """
    try:
        result = loader.import_file(file or loader.SHIPPED)
    except loader.ContactFileError as exc:
        raise click.ClickException(f"{file or loader.SHIPPED} was not loaded:\n{exc}") from exc
    click.echo(
        f"contacts: {result.added} added, {result.updated} updated, {result.unchanged} unchanged."
    )
