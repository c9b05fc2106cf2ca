"""Training, evaluation and benchmarking of the classifier model (``triage train``,
``triage evaluate``, ``triage default-model``, ``make eval-benchmarks``)."""
