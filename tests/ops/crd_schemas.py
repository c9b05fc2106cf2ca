"""Structural schemas of the custom resources Triage ships (no cluster, no network).

kubernetes-validate knows only built-in kinds. These schemas follow the CRDs of
KEDA 2.x (keda.sh/v1alpha1) and the Prometheus Operator (monitoring.coreos.com/v1)
for the fields Triage can use, closed (``additionalProperties: false``) where the
CRD is, so that a misspelt or misplaced field fails here rather than at apply time.
KEDA's trigger metadata is a map of strings in its CRD: a bare number there is
rejected by the API server, and here.
"""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_INT = {"type": "integer"}
_STR_MAP = {"type": "object", "additionalProperties": _STR}


def _closed(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}  # fmt: skip


def _object(spec: dict[str, Any]) -> dict[str, Any]:
    metadata = {"type": "object", "required": ["name"],
                "properties": {"name": _STR, "namespace": _STR, "labels": _STR_MAP,
                               "annotations": _STR_MAP}}  # fmt: skip
    return _closed({"apiVersion": _STR, "kind": _STR, "metadata": metadata, "spec": spec},
                   ("apiVersion", "kind", "metadata", "spec"))  # fmt: skip


_LABEL_SELECTOR = _closed({
    "matchLabels": _STR_MAP,
    "matchExpressions": {"type": "array", "items": _closed(
        {"key": _STR, "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
         "values": {"type": "array", "items": _STR}}, ("key", "operator"))},
})  # fmt: skip

SCALED_OBJECT = _object(_closed({
    "scaleTargetRef": _closed({"apiVersion": _STR, "kind": _STR, "name": _STR,
                               "envSourceContainerName": _STR}, ("name",)),
    "pollingInterval": _INT, "cooldownPeriod": _INT, "initialCooldownPeriod": _INT,
    "idleReplicaCount": _INT, "minReplicaCount": _INT, "maxReplicaCount": _INT,
    "fallback": _closed({"failureThreshold": _INT, "replicas": _INT, "behavior": _STR},
                        ("failureThreshold", "replicas")),
    "advanced": _closed({
        "restoreToOriginalReplicaCount": {"type": "boolean"},
        # Validated separately against the Kubernetes HPA schema.
        "horizontalPodAutoscalerConfig": _closed({"name": _STR, "behavior": {"type": "object"}}),
        "scalingModifiers": {"type": "object"},
    }),
    "triggers": {"type": "array", "minItems": 1, "items": _closed({
        "type": _STR, "name": _STR, "metadata": _STR_MAP, "useCachedMetrics": {"type": "boolean"},
        "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
        "authenticationRef": _closed({"name": _STR, "kind": _STR}, ("name",)),
    }, ("type", "metadata"))},
}, ("scaleTargetRef", "triggers")))  # fmt: skip

TRIGGER_AUTHENTICATION = _object(_closed({
    "secretTargetRef": {"type": "array", "items": _closed(
        {"parameter": _STR, "name": _STR, "key": _STR}, ("parameter", "name", "key"))},
    "env": {"type": "array", "items": _closed(
        {"parameter": _STR, "name": _STR, "containerName": _STR}, ("parameter", "name"))},
    "configMapTargetRef": {"type": "array", "items": _closed(
        {"parameter": _STR, "name": _STR, "key": _STR}, ("parameter", "name", "key"))},
    "podIdentity": {"type": "object"},
}))  # fmt: skip

_DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?"
                                          r"(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}  # fmt: skip

SERVICE_MONITOR = _object(_closed({
    "jobLabel": _STR, "targetLabels": {"type": "array", "items": _STR},
    "podTargetLabels": {"type": "array", "items": _STR},
    "selector": _LABEL_SELECTOR,
    "namespaceSelector": _closed({"any": {"type": "boolean"},
                                  "matchNames": {"type": "array", "items": _STR}}),
    "sampleLimit": _INT, "targetLimit": _INT,
    "endpoints": {"type": "array", "minItems": 1, "items": _closed({
        "port": _STR, "targetPort": {"type": ["string", "integer"]}, "path": _STR,
        "scheme": {"enum": ["http", "https"]}, "interval": _DURATION, "scrapeTimeout": _DURATION,
        "honorLabels": {"type": "boolean"}, "honorTimestamps": {"type": "boolean"},
        "params": {"type": "object"}, "relabelings": {"type": "array"},
        "metricRelabelings": {"type": "array"}, "tlsConfig": {"type": "object"},
        "authorization": {"type": "object"}, "followRedirects": {"type": "boolean"},
        "enableHttp2": {"type": "boolean"}, "filterRunning": {"type": "boolean"},
    })},
}, ("selector", "endpoints")))  # fmt: skip

_RULE = {
    "type": "object",
    "properties": {"record": _STR, "alert": _STR, "expr": _STR, "for": _DURATION,
                   "keep_firing_for": _DURATION, "labels": _STR_MAP, "annotations": _STR_MAP},
    "required": ["expr"],
    "additionalProperties": False,
    "oneOf": [{"required": ["record"]}, {"required": ["alert"]}],
}  # fmt: skip

PROMETHEUS_RULE = _object(_closed({
    "groups": {"type": "array", "items": _closed({
        "name": _STR, "interval": _DURATION, "limit": _INT, "partial_response_strategy": _STR,
        "rules": {"type": "array", "items": _RULE},
    }, ("name", "rules"))},
}, ("groups",)))  # fmt: skip

SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("keda.sh/v1alpha1", "ScaledObject"): SCALED_OBJECT,
    ("keda.sh/v1alpha1", "TriggerAuthentication"): TRIGGER_AUTHENTICATION,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): SERVICE_MONITOR,
    ("monitoring.coreos.com/v1", "PrometheusRule"): PROMETHEUS_RULE,
}
