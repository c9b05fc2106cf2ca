"""The metric names the services export, read from the services themselves.

Each app is built in-process and its ``GET /metrics`` read without starting its
lifespan (so nothing connects to a broker or a database): the exposition lists
every family the service registered, even before a first sample. What a service
only registers while starting (the router's consumer metrics) is added from the
same classes. No hand-kept list of names.
"""

from __future__ import annotations

from functools import cache

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

# Sample-name suffixes per metric type (text exposition format).
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "unknown": ("",),
}


def sample_names(exposition: str) -> set[str]:
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names.update(family.name + suffix for suffix in _SUFFIXES[family.type])
    return names


def _scrape(app: object) -> str:
    # No `with`: the lifespan (broker, database, model) does not run.
    response = TestClient(app).get("/metrics")  # type: ignore[arg-type]
    response.raise_for_status()
    return response.text


def _registry_text(registry: CollectorRegistry) -> str:
    from prometheus_client import generate_latest

    return generate_latest(registry).decode()


def ingest_exposition() -> str:
    from services.ingest.app import create_app
    from services.ingest.settings import IngestSettings

    return _scrape(create_app(IngestSettings()))  # type: ignore[call-arg]


def classifier_exposition() -> str:
    from services.classifier.app import create_app
    from services.classifier.settings import ClassifierSettings

    return _scrape(create_app(ClassifierSettings()))  # type: ignore[call-arg]


def router_exposition() -> str:
    from services.router.app import create_app
    from services.router.settings import RouterSettings
    from shared.metrics import ConsumerMetrics

    text = _scrape(create_app(RouterSettings()))  # type: ignore[call-arg]
    # Registered by the router's lifespan when its consumer starts.
    consumer = CollectorRegistry()
    ConsumerMetrics(consumer, "router")
    return text + _registry_text(consumer)


EXPOSITIONS = {
    "ingest": ingest_exposition,
    "classifier": classifier_exposition,
    "router": router_exposition,
}

# Series Prometheus itself adds to every scrape target.
SCRAPE_SERIES = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})


@cache
def exported_by(service: str) -> frozenset[str]:
    return frozenset(sample_names(EXPOSITIONS[service]()))


def exported() -> frozenset[str]:
    """Every sample name any service exports, plus Prometheus's own scrape series."""
    names: set[str] = set(SCRAPE_SERIES)
    for service in EXPOSITIONS:
        names |= exported_by(service)
    return frozenset(names)
