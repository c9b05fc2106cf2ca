"""What the Deployments and the migration Job promise: probes on the health
endpoints, a grace period above the drain timeout, non-root with a read-only
root filesystem, resources sized for the service, ports matching the settings."""

from __future__ import annotations

import pytest

from services.classifier.settings import ClassifierSettings
from services.ingest.settings import IngestSettings
from services.router.settings import RouterSettings
from tests.fixtures.ops.k8s import (
    KUSTOMIZATIONS,
    SERVICES,
    Obj,
    config,
    containers,
    env_value,
    named,
    pod_templates,
    rendered,
)

DEFAULT_PORTS = {
    "ingest": IngestSettings.model_fields["port"].default,
    "classifier": ClassifierSettings.model_fields["port"].default,
    "router": RouterSettings.model_fields["port"].default,
}
MiB = 2**20


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


def _main(name: str, service: str) -> Obj:
    deployment = named(rendered(name), "Deployment", f"triage-{service}")
    container: Obj = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_pod_is_non_root_and_read_only(name: str) -> None:
    for workload, template in pod_templates(rendered(name)):
        pod = template["spec"]
        where = workload["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["runAsUser"] >= 1000, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        assert pod["automountServiceAccountToken"] is False, where
        for container in containers(template):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            # Python and its libraries still need a writable /tmp.
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], where
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), where


@pytest.mark.parametrize("service", SERVICES)
def test_probes_on_health_endpoints(service: str) -> None:
    container = _main("base", service)
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_classifier_gets_minutes_to_load_its_model() -> None:
    probe = _main("base", "classifier")["startupProbe"]
    assert probe["httpGet"]["path"] == "/healthz"
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 180


@pytest.mark.parametrize("service", SERVICES)
def test_grace_period_above_drain_timeout(service: str) -> None:
    for name in KUSTOMIZATIONS:
        objects = rendered(name)
        drain = float(config(objects)["TRIAGE_GRACEFUL_TIMEOUT_S"])
        pod = named(objects, "Deployment", f"triage-{service}")["spec"]["template"]["spec"]
        pre_stop = pod["containers"][0].get("lifecycle", {}).get("preStop", {})
        pause = pre_stop.get("sleep", {}).get("seconds", 0)
        assert pod["terminationGracePeriodSeconds"] > drain + pause, (name, service)


@pytest.mark.parametrize("service", SERVICES)
def test_port_command_and_image(service: str) -> None:
    container = _main("base", service)
    port = DEFAULT_PORTS[service]
    assert container["command"] == ["triage", service]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert env_value(container, "TRIAGE_PORT") == str(port)
    assert container["image"] == f"triage-{service}"
    assert config(rendered("base"))["TRIAGE_HOST"] == "0.0.0.0"


# RSS measured on the reference machine (docs/operations.md, "Resources"): after
# start-up, and at the peak of the heaviest load measured (ingest: a burst of 4000
# requests; classifier: full batches of 64 long texts; router: the real-Prometheus
# pipeline test). The integration test re-measures the peak under its own load.
MEASURED_MIB = {"ingest": (59, 64), "classifier": (1676, 2304), "router": (77, 77)}


@pytest.mark.parametrize("service", SERVICES)
def test_memory_sized_from_measurements(service: str) -> None:
    started, peak = MEASURED_MIB[service]
    resources = _main("base", service)["resources"]
    assert _bytes(resources["requests"]["memory"]) >= started * MiB
    assert _bytes(resources["limits"]["memory"]) >= 1.25 * peak * MiB


def test_classifier_threads_match_its_cpu_limit() -> None:
    # More PyTorch threads than the CPU limit would only be throttled.
    classifier = _main("base", "classifier")
    threads = env_value(classifier, "TRIAGE_CLASSIFIER_THREADS")
    assert threads == classifier["resources"]["limits"]["cpu"]


def test_migration_job_runs_the_router_image() -> None:
    for name in KUSTOMIZATIONS:
        objects = rendered(name)
        job = named(objects, "Job", "triage-migrate")["spec"]["template"]["spec"]
        router = named(objects, "Deployment", "triage-router")["spec"]["template"]["spec"]
        assert job["containers"][0]["command"] == ["triage", "migrate"]
        assert job["restartPolicy"] == "Never"
        assert job["containers"][0]["image"] == router["containers"][0]["image"]
        # The router's pods wait for the migration instead of crash-looping.
        assert router["initContainers"][0]["command"] == ["triage", "migrate", "--check"]


def test_example_overlay_sets_namespace_and_images() -> None:
    objects = rendered("example")
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == "triage", obj["metadata"]["name"]
    for service in SERVICES:
        image = _main("example", service)["image"]
        assert image.startswith(f"registry.example.org/triage/{service}:"), image
