"""The Alembic head equals the models, and the migrations run down and up again.

(SecureDrop's ``test_alembic_head_matches_db_models``.) A fresh SQLite file per test; the
suite's own backend (PostgreSQL when TEST_DATABASE_URL is set) is compared read-only.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Column, Connection, Index, inspect, text

from portal import create_app
from portal.db import Base, get_engine, import_models
from portal.migrate import MIGRATIONS, upgrade


def make_app(url: str) -> Iterator[Flask]:
    app = create_app({"ENV_NAME": "testing", "TESTING": True, "DATABASE_URL": url})
    try:
        yield app
    finally:
        app.extensions["db_engine"].dispose()


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[Flask]:
    yield from make_app(f"sqlite:///{tmp_path / 'migrations.sqlite'}")


def not_a_partition_detail(obj: Any, name: Any, type_: str, reflected: bool, other: Any) -> bool:
    """PostgreSQL clones the persons -> households foreign key once per households partition
    (schema snapshot_parts, one per snapshot); those clones are not part of the model."""
    if type_ == "foreign_key_constraint":
        return not any(e.target_fullname.startswith("snapshot_parts.") for e in obj.elements)
    return True


def _is_expression_index(obj: Any) -> bool:
    return isinstance(obj, Index) and any(not isinstance(e, Column) for e in obj.expressions)


def not_an_expression_index(obj: Any, name: Any, type_: str, reflected: bool, other: Any) -> bool:
    """Expression indexes are compared by name (missing_expression_indexes); the rest as
    not_a_partition_detail says."""
    if type_ == "index" and not reflected and _is_expression_index(obj):
        return False
    return not_a_partition_detail(obj, name, type_, reflected, other)


def missing_expression_indexes(connection: Connection) -> list[Any]:
    if connection.dialect.name == "postgresql":
        names_sql = "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
    else:
        names_sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    present = set(connection.execute(text(names_sql)).scalars())
    return [
        ("expression index missing", index.name)
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if _is_expression_index(index) and index.name not in present
    ]


def differences(app: Flask) -> list[Any]:
    """Alembic's comparison, plus the order of each primary key's columns, which Alembic
    does not compare (the order decides what the key's index serves), and the names of the
    expression indexes, which SQLAlchemy does not reflect."""
    import_models()
    with app.app_context(), get_engine().connect() as connection:
        opts = {"compare_type": True, "include_object": not_an_expression_index}
        context = MigrationContext.configure(connection, opts=opts)
        with warnings.catch_warnings():
            # SQLAlchemy and Alembic say that they skip it (compared by name below)
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expr")
            found = list(compare_metadata(context, Base.metadata))
        found += missing_expression_indexes(connection)
        inspector = inspect(connection)
        for name, table in Base.metadata.tables.items():
            key = inspector.get_pk_constraint(name)["constrained_columns"]
            if key != [c.name for c in table.primary_key.columns]:
                found.append(("primary key order", name, key))
        return found + collation_differences(connection)


def collation_differences(connection: Connection) -> list[Any]:
    """PostgreSQL: each column's collation as the models write it (Alembic does not
    compare collations; the import's index builds depend on them)."""
    if connection.dialect.name != "postgresql":
        return []
    actual = {
        (table, column): collation
        for table, column, collation in connection.execute(
            text(
                "SELECT table_name, column_name, collation_name FROM information_schema.columns "
                "WHERE table_schema = 'public'"
            )
        )
    }
    found = []
    for name, table in Base.metadata.tables.items():
        for column in table.columns:
            written = re.search(r'COLLATE "([^"]+)"', column.type.compile(connection.dialect))
            wanted = written.group(1) if written else None
            if actual[(name, column.name)] != wanted:
                found.append(("collation", name, column.name, actual[(name, column.name)]))
    return found


def table_names(app: Flask) -> set[str]:
    with app.app_context():
        return set(inspect(get_engine()).get_table_names())


def model_tables() -> set[str]:
    import_models()
    return set(Base.metadata.tables)


def test_migrations_have_a_single_head() -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_alembic_head_matches_the_models_on_a_fresh_sqlite_file(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        upgrade()
    assert table_names(fresh_app) == model_tables() | {"alembic_version"}
    assert differences(fresh_app) == []


def test_alembic_head_matches_the_models_on_the_suite_backend(db_url: str) -> None:
    # PostgreSQL when TEST_DATABASE_URL is set: types and constraints differ from SQLite's
    for app in make_app(db_url):
        assert differences(app) == []


def test_downgrade_to_base_and_upgrade_again(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output

    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    assert table_names(fresh_app) <= {"alembic_version"}

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert table_names(fresh_app) == model_tables() | {"alembic_version"}
    assert differences(fresh_app) == []


def test_upgrade_twice_is_harmless(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        upgrade()
        upgrade()
    assert differences(fresh_app) == []
