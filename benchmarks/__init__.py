"""Benchmarks: measure speed and quality; never imported by the services.

- ``benchmarks.e2e``: the whole pipeline on the local stack (``make bench``).
- ``benchmarks.classifier``: the service vs its bare encoder (``make bench-classifier``).
- ``benchmarks.queue``: claims per second of the router's queues (``make bench-queue``).
- ``benchmarks.models``: quality and embedder speed on public data (``make eval-benchmarks``).
"""
