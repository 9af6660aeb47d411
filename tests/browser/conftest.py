"""Fixtures the browser tests share with the apps' tests."""

from tests.moderation.conftest import registry  # noqa: F401 - a fixture, used by name
