"""The team-lead page works as shipped: every router replica signs sessions with the
same key (from a Secret), cookies are Secure behind the TLS ingress, and the
example ingress routes the page (/ui) to the router."""

from __future__ import annotations

import pytest

from services.router.web.context import PREFIX
from tests.fixtures.ops.k8s import KUSTOMIZATIONS, Obj, config, named, rendered


def _router(name: str) -> tuple[Obj, Obj]:
    deployment = named(rendered(name), "Deployment", "triage-router")
    container = next(c for c in deployment["spec"]["template"]["spec"]["containers"]
                     if c["name"] == "router")  # fmt: skip
    return deployment, container


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_replicas_share_the_session_key_from_a_secret(name: str) -> None:
    deployment, container = _router(name)
    assert deployment["spec"]["replicas"] > 1  # why a per-pod random key breaks logins
    env = {v["name"]: v for v in container["env"]}
    ref = env["TRIAGE_WEB_SESSION_SECRET"]["valueFrom"]["secretKeyRef"]
    assert ref["name"].startswith("triage-router") and ref["key"] == "TRIAGE_WEB_SESSION_SECRET"
    assert not ref.get("optional", False)  # a pod without it must not start


def test_cookies_are_secure_behind_the_tls_ingress() -> None:
    objects = rendered("example")
    ingress = named(objects, "Ingress", "triage")
    assert ingress["spec"]["tls"]  # TLS ends at the ingress: the router sees plain HTTP
    assert config(objects)["TRIAGE_WEB_COOKIE_SECURE"] == "true"


def test_the_example_ingress_routes_the_page_to_the_router() -> None:
    ingress = named(rendered("example"), "Ingress", "triage")
    routes = {
        (rule["host"], path["path"]): (path["pathType"], path["backend"]["service"])
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    kind, backend = routes[("queues.triage.example.org", PREFIX)]
    assert kind == "Prefix" and backend == {"name": "triage-router", "port": {"name": "http"}}
    tls_hosts = {h for entry in ingress["spec"]["tls"] for h in entry["hosts"]}
    assert "queues.triage.example.org" in tls_hosts
