"""``flask --app portal wilayah ...``: the region table."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from portal.wilayah import loader, queries
from portal.wilayah.models import Level

wilayah_cli = AppGroup("wilayah", help="Region table (provinsi, kabupaten/kota, kecamatan, desa).")


@wilayah_cli.command("import")
@click.argument(
    "directory",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
def import_command(directory: Path | None) -> None:
    """Import regions from DIRECTORY (idn-area-data CSV files).

    Default: the copy vendored in portal/data/wilayah (idn-area-data 4.0.1, ODbL 1.0).
    Safe to run again: only new or renamed regions are written.
    """
    started = time.perf_counter()
    try:
        result = loader.import_dir(directory or loader.VENDORED)
    except loader.WilayahFileError as exc:
        raise click.ClickException(str(exc)) from exc
    except IntegrityError as exc:
        raise click.ClickException(
            f"a region refers to a parent that does not exist: {exc.orig}"
        ) from exc
    counts = queries.count_by_level()
    click.echo(
        f"wilayah: {result.total_added} added, {result.updated} updated "
        f"in {time.perf_counter() - started:.1f} s. In the table: "
        f"{counts.get(Level.PROVINSI, 0)} provinsi, "
        f"{counts.get(Level.KABUPATEN, 0)} kabupaten/kota, "
        f"{counts.get(Level.KECAMATAN, 0)} kecamatan, {counts.get(Level.DESA, 0)} desa/kelurahan."
    )
    click.echo("Region codes: idn-area-data (github.com/fityannugroho/idn-area-data), ODbL 1.0.")
