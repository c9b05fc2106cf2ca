"""Test-only helpers shared by tests, benchmarks and the fault tier (never used in production)."""
