"""Helpers over rendered Kubernetes objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.unit.ops import tools

Obj = dict[str, Any]

KUSTOMIZATIONS = {
    "base": tools.K8S / "base",
    "example": tools.K8S / "overlays" / "example",
}
SERVICES = ("ingest", "classifier", "router")


def rendered(name: str) -> tuple[Obj, ...]:
    return tools.render(KUSTOMIZATIONS[name])


def of_kind(objects: tuple[Obj, ...], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: tuple[Obj, ...], kind: str, name: str) -> Obj:
    matches = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def config(objects: tuple[Obj, ...]) -> dict[str, str]:
    """Data of the triage-config ConfigMap (generated: its name carries a hash)."""
    maps = [o for o in of_kind(objects, "ConfigMap")
            if o["metadata"]["name"].startswith("triage-config")]  # fmt: skip
    assert len(maps) == 1
    data: dict[str, str] = maps[0]["data"]
    return data


def pod_templates(objects: tuple[Obj, ...]) -> Iterator[tuple[Obj, Obj]]:
    """(workload, pod template) of every Deployment and Job."""
    for obj in objects:
        if obj["kind"] in {"Deployment", "Job"}:
            yield obj, obj["spec"]["template"]


def containers(template: Obj) -> list[Obj]:
    spec = template["spec"]
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def selector_matches(selector: Obj, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def env_value(container: Obj, name: str) -> str | None:
    for var in container.get("env", []):
        if var["name"] == name:
            value: str | None = var.get("value")
            return value
    return None
