"""The classifier service against its bare encoder: ``python -m benchmarks.classifier.run``."""
