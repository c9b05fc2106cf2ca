"""Every rendered Kubernetes object validates offline: built-in kinds against the
Kubernetes OpenAPI schemas (kubernetes-validate, strict), custom resources against
the structural schemas of their CRDs."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.fixtures.ops.k8s import KUSTOMIZATIONS, Obj, of_kind, rendered
from tests.ops.crd_schemas import SCHEMAS

# The oldest Kubernetes Triage supports (the preStop `sleep` action is on by
# default from 1.30) and the newest kubernetes-validate knows.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.utils.latest_version())


def _objects() -> list[tuple[str, Obj]]:
    return [(name, obj) for name in KUSTOMIZATIONS for obj in rendered(name)]


def _id(item: Any) -> str:
    if isinstance(item, tuple):
        name, obj = item
        return f"{name}:{obj['kind']}/{obj['metadata']['name']}"
    return str(item)


def test_kustomizations_render() -> None:
    for name in KUSTOMIZATIONS:
        kinds = {o["kind"] for o in rendered(name)}
        assert {"Deployment", "Service", "Job", "PodDisruptionBudget", "NetworkPolicy"} <= kinds


def test_example_overlay_has_every_piece() -> None:
    kinds = {o["kind"] for o in rendered("example")}
    assert {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule",
            "ConfigMap", "Secret", "Namespace"} <= kinds  # fmt: skip


@pytest.mark.parametrize("item", _objects(), ids=_id)
def test_object_validates(item: tuple[str, Obj]) -> None:
    _, obj = item
    crd = SCHEMAS.get((obj["apiVersion"], obj["kind"]))
    if crd is not None:
        jsonschema.Draft202012Validator(crd).validate(obj)
        return
    for version in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            pytest.fail(f"{obj['apiVersion']} {obj['kind']}: no schema (unknown kind?)")
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(f"Kubernetes {version}: {path}: {exc.message}")


def test_scaled_object_hpa_behavior_is_a_valid_hpa_behavior() -> None:
    # KEDA copies it into the HorizontalPodAutoscaler it creates: validate it there.
    for scaled in of_kind(rendered("example"), "ScaledObject"):
        behavior = scaled["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        hpa = {
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": scaled["metadata"]["name"]},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": scaled["spec"]["scaleTargetRef"]["name"]},
                     "maxReplicas": scaled["spec"]["maxReplicaCount"], "behavior": behavior},
        }  # fmt: skip
        for version in K8S_VERSIONS:
            kubernetes_validate.validate(hpa, version, strict=True)


def test_crd_schemas_reject_a_misspelt_field() -> None:
    scaled = next(iter(of_kind(rendered("example"), "ScaledObject")))
    broken = {**scaled, "spec": {**scaled["spec"], "maxReplicas": 3}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMAS[("keda.sh/v1alpha1", "ScaledObject")]).validate(
            broken
        )
