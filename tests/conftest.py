"""Shared pytest fixtures: real broker and real PostgreSQL for the integration tiers."""

pytest_plugins = ["tests.fixtures.stack"]
