"""Model quality and embedder speed on public data sets: ``python -m benchmarks.models.run``."""
