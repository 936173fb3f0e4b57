"""Test configuration. The backend comes from the environment (see tests/fixtures/db.py):
SQLite by default; PostgreSQL + Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set.
"""

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.worlds",
    "tests.fixtures.app",
    "tests.fixtures.factories",
    "tests.fixtures.staff",
    "tests.fixtures.guards",
    "tests.fixtures.shard",
    "tests.fixtures.coverage_scope",
]
