"""The staff fixtures of tests/review (cases written as rows, signed-in English browsers)."""

from tests.review.conftest import cases, sign_in  # noqa: F401 (fixtures)
