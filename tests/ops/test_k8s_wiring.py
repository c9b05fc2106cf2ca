"""The rendered objects fit together: every reference resolves, selectors select
what they should, KEDA scales the classifier within the partition count on the
group and topic the classifier really uses, and the monitoring objects carry the
same rules and dashboard as deploy/prometheus and deploy/grafana."""

from __future__ import annotations

import json

import pytest
import yaml

from services.classifier.settings import ClassifierSettings
from shared.events import RECEIVED_V1
from shared.settings import KafkaSettings
from tests.fixtures.ops import tools
from tests.fixtures.ops.k8s import (
    KUSTOMIZATIONS,
    SERVICES,
    Obj,
    config,
    containers,
    named,
    of_kind,
    pod_templates,
    rendered,
    selector_matches,
)


def _pod_labels(objects: tuple[Obj, ...]) -> list[dict[str, str]]:
    return [template["metadata"]["labels"] for _, template in pod_templates(objects)]


def test_every_config_and_secret_reference_resolves() -> None:
    objects = rendered("example")
    maps = {o["metadata"]["name"]: o.get("data", {}) for o in of_kind(objects, "ConfigMap")}
    secrets = {o["metadata"]["name"]: o.get("data", {}) for o in of_kind(objects, "Secret")}
    for workload, template in pod_templates(objects):
        for container in containers(template):
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in maps, workload["metadata"]["name"]
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref is None:
                    continue
                where = f"{workload['metadata']['name']} {var['name']}"
                assert ref["name"] in secrets, where
                # Optional keys too: the example overlay shows every key there is.
                assert ref["key"] in secrets[ref["name"]], where


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_services_select_their_pods_on_a_named_port(name: str) -> None:
    objects = rendered(name)
    for service in SERVICES:
        svc = named(objects, "Service", f"triage-{service}")
        deployment = named(objects, "Deployment", f"triage-{service}")
        template = deployment["spec"]["template"]
        assert selector_matches({"matchLabels": svc["spec"]["selector"]},
                                template["metadata"]["labels"])  # fmt: skip
        ports = {p["name"] for p in template["spec"]["containers"][0]["ports"]}
        assert [p["targetPort"] for p in svc["spec"]["ports"]] == ["http"]
        assert "http" in ports
        assert selector_matches(deployment["spec"]["selector"], template["metadata"]["labels"])


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_disruption_budgets_cover_each_service(name: str) -> None:
    objects = rendered(name)
    budgets = of_kind(objects, "PodDisruptionBudget")
    for service in SERVICES:
        labels = named(objects, "Deployment", f"triage-{service}")["spec"]["template"]["metadata"]
        covering = [b for b in budgets if selector_matches(b["spec"]["selector"], labels["labels"])]
        assert len(covering) == 1, service


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_network_policies(name: str) -> None:
    objects = rendered(name)
    policies = {p["metadata"]["name"]: p for p in of_kind(objects, "NetworkPolicy")}
    pods = _pod_labels(objects)
    for policy in policies.values():
        assert any(selector_matches(policy["spec"]["podSelector"], labels) for labels in pods), (
            f"{policy['metadata']['name']} selects no pod"
        )
    deny = policies["triage-default-deny"]["spec"]
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    assert all(selector_matches(deny["podSelector"], labels) for labels in pods)

    def allowed(policy: str, component: str) -> bool:
        selector = policies[policy]["spec"]["podSelector"]
        return selector_matches(selector, {"app.kubernetes.io/name": f"triage-{component}",
                                           "app.kubernetes.io/part-of": "triage"})  # fmt: skip

    # The three services and the migration reach PostgreSQL (ingest and the classifier's
    # extraction stage: the document store); nobody but Prometheus reaches the classifier.
    for component in ("router", "migrate", "ingest", "classifier"):
        assert allowed("triage-postgres-egress", component)
    assert not allowed("triage-kafka-egress", "migrate")
    assert not allowed("triage-api-ingress", "classifier")
    assert allowed("triage-metrics-ingress", "classifier")


def test_keda_scales_the_classifier_within_the_partitions() -> None:
    objects = rendered("example")
    scaled = named(objects, "ScaledObject", "triage-classifier")["spec"]
    settings = config(objects)
    default_partitions = KafkaSettings.model_fields["kafka_topic_partitions"].default
    partitions = int(settings.get("TRIAGE_KAFKA_TOPIC_PARTITIONS", default_partitions))
    assert scaled["scaleTargetRef"]["name"] == "triage-classifier"
    named(objects, "Deployment", "triage-classifier")
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"] <= partitions
    (trigger,) = scaled["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "kafka"
    assert meta["consumerGroup"] == ClassifierSettings.model_fields["classifier_group_id"].default
    assert meta["topic"] == settings.get("TRIAGE_TOPIC_RECEIVED", RECEIVED_V1)
    assert meta["bootstrapServers"] == settings["TRIAGE_KAFKA_BOOTSTRAP"]
    assert meta["allowIdleConsumers"] == "false"
    assert int(meta["lagThreshold"]) > 0
    # KEDA owns the replica count: the Deployment must not fight it on every apply.
    assert "replicas" not in named(objects, "Deployment", "triage-classifier")["spec"]


def test_keda_authentication_reads_the_kafka_secret() -> None:
    objects = rendered("example")
    scaled = named(objects, "ScaledObject", "triage-classifier")["spec"]
    auth = named(
        objects, "TriggerAuthentication", scaled["triggers"][0]["authenticationRef"]["name"]
    )
    secrets = {o["metadata"]["name"]: o["data"] for o in of_kind(objects, "Secret")}
    for ref in auth["spec"]["secretTargetRef"]:
        assert ref["key"] in secrets[ref["name"]], ref


def test_service_monitor_scrapes_the_three_services() -> None:
    objects = rendered("example")
    (monitor,) = of_kind(objects, "ServiceMonitor")
    spec = monitor["spec"]
    selected = [s for s in of_kind(objects, "Service")
                if selector_matches(spec["selector"], s["metadata"]["labels"])]  # fmt: skip
    assert sorted(s["metadata"]["name"] for s in selected) == sorted(
        f"triage-{s}" for s in SERVICES
    )
    # The job label (alert rules match job="triage-<service>") comes from this label.
    for service in selected:
        assert service["metadata"]["labels"][spec["jobLabel"]] == service["metadata"]["name"]
        ports = {p["name"] for p in service["spec"]["ports"]}
        assert {e["port"] for e in spec["endpoints"]} <= ports
    assert {e["path"] for e in spec["endpoints"]} == {"/metrics"}


def test_prometheus_rule_and_dashboard_match_their_sources() -> None:
    objects = rendered("example")
    (rule,) = of_kind(objects, "PrometheusRule")
    assert rule["spec"]["groups"] == yaml.safe_load(tools.ALERTS.read_text())["groups"]
    dashboard = named(objects, "ConfigMap", "triage-grafana-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["triage.json"]) == json.loads(tools.DASHBOARD.read_text())


def test_example_overlay_replicates_every_accepted_request() -> None:
    """Issue 13, item 12: a 202 (acks=all) means two brokers have the request."""
    values = {k.removeprefix("TRIAGE_").lower(): v for k, v in config(rendered("example")).items()}
    settings = KafkaSettings.model_validate(
        {k: v for k, v in values.items() if k.startswith("kafka_")}
    )
    assert (settings.kafka_replication_factor, settings.kafka_min_insync_replicas) == (3, 2)
    assert settings.kafka_deadletter_retention_days > 0
